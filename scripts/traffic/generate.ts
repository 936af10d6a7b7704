/**
 * Realistic agent events: direct invokes as the recipes send them, API Gateway REST (1.0) and
 * HTTP API (2.0) events by GET and POST, from varied addresses and referring sites, plus a
 * share of the mistakes real clients make. Each event says what the agent must answer, so a
 * run can count surprises, and a functional test can check the rows it leads to.
 * Seeded: the same options give the same events (ids and clocks aside).
 */
import { LIMITS } from '../../src/contract/limits.ts';
import { ACCEPTED_TYPE_NAMES, resolveVisitType, type VisitTypeName } from '../../src/contract/visit-types.ts';
import { createRandom, type Random } from '../support/random.ts';
import { httpEvent, restEvent } from './events.ts';

/** Shares of each kind of visit: accepted type names (aliases too) and `invalid`. */
export type Mix = Readonly<Record<string, number>>;
export const DEFAULT_MIX: Mix = { 'type-in': 45, referrer: 45, invalid: 10 };
export const INVALID = 'invalid';

/** How an event reaches the agent. */
export type EventSource = 'direct' | 'rest' | 'http';
export const EVENT_SOURCES: readonly EventSource[] = ['direct', 'rest', 'http'];

export interface Expectation {
  /** The status the agent must answer with. */
  readonly status: 202 | 400 | 405 | 413;
  /** For accepted visits: what must be stored. */
  readonly type?: VisitTypeName;
  readonly ip?: string;
  readonly url?: string;
}

export interface TrafficEvent {
  readonly index: number;
  /** Short description, e.g. `http POST referrer` or `direct invalid: javascript url`. */
  readonly label: string;
  readonly event: unknown;
  readonly expect: Expectation;
}

export interface GenerateOptions {
  readonly count: number;
  readonly mix?: Mix;
  readonly seed?: number;
  readonly sources?: readonly EventSource[];
}

export class MixError extends Error {
  override name = 'MixError';
}

export const MIX_KEYS: readonly string[] = [...ACCEPTED_TYPE_NAMES, INVALID];

/** Parses `type-in=45,referrer=45,invalid=10`; weights are relative, need not sum to 100. */
export function parseMix(text: string): Mix {
  const mix: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [key, value, extra] = part.trim().split('=');
    if (!key || value === undefined || extra !== undefined) throw new MixError(`mix entry ${JSON.stringify(part)} is not name=weight`);
    if (!MIX_KEYS.includes(key)) throw new MixError(`mix name ${JSON.stringify(key)} is not one of ${MIX_KEYS.join(', ')}`);
    const weight = Number(value);
    if (value.trim() === '' || !Number.isFinite(weight) || weight < 0) throw new MixError(`mix weight for ${key} must be a number >= 0`);
    mix[key] = (mix[key] ?? 0) + weight;
  }
  if (Object.values(mix).reduce((a, b) => a + b, 0) <= 0) throw new MixError('mix weights must not all be 0');
  return mix;
}

// --- realistic values ---------------------------------------------------------------

const REFERRERS = [
  'https://www.google.com/search?q=traffic+analytics',
  'https://www.bing.com/search?q=site+visits',
  'https://duckduckgo.com/?q=visit+counter',
  'https://news.ycombinator.com/item?id=41234567',
  'https://www.reddit.com/r/webdev/comments/1abcde/',
  'https://t.co/Xy12AbC3',
  'https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com',
  'https://www.linkedin.com/feed/',
  'http://blog.example.org/2026/03/peak-hours',
  'test.com',
  'partner-shop.example.net/deals?utm_source=banner',
  'https://[2001:db8::7]/landing',
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];

function ipv4(random: Random): string {
  // Public-looking unicast: no 0/8, 10/8, 127/8 or multicast and above.
  let first = random.int(1, 223);
  if (first === 10 || first === 127) first += 1;
  return `${first}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
}

function ipv6(random: Random): string {
  // The documentation prefix, so generated traffic never names a real host.
  return `2001:db8:${random.hex(4)}:${random.hex(4)}::${random.hex(3)}`;
}

function clientIp(random: Random): string {
  return random.chance(0.2) ? ipv6(random) : ipv4(random);
}

// --- event shapes ---------------------------------------------------------------------

interface Request {
  method: string;
  params: Record<string, string>;
  /** A raw body instead of JSON of params (POST only). */
  rawBody?: string;
  sourceIp: string;
  headers: Record<string, string>;
}

function restEventFor(random: Random, r: Request, index: number): unknown {
  const post = r.method !== 'GET';
  const headers: Record<string, string> = { Host: 'api.example.com', 'User-Agent': random.pick(USER_AGENTS), ...r.headers };
  if (post) headers['Content-Type'] = 'application/json';
  return restEvent(r.method, {
    headers,
    query: post ? null : r.params,
    body: post ? (r.rawBody ?? JSON.stringify(r.params)) : null,
    sourceIp: r.sourceIp,
    requestId: `req-${index}-${random.hex(8)}`,
    time: Date.now(),
  });
}

function httpEventFor(random: Random, r: Request, index: number): unknown {
  const post = r.method !== 'GET';
  const headers: Record<string, string> = { host: 'api.example.com', 'user-agent': random.pick(USER_AGENTS) };
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
  if (post) headers['content-type'] = 'application/json';
  let body: string | undefined = post ? (r.rawBody ?? JSON.stringify(r.params)) : undefined;
  // HTTP APIs base64-encode bodies they do not take for text; the agent must decode them.
  const base64 = body !== undefined && random.chance(0.2);
  if (base64) body = Buffer.from(body!, 'utf8').toString('base64');
  return httpEvent(r.method, {
    headers,
    query: post || Object.keys(r.params).length === 0 ? undefined : r.params,
    rawQueryString: post ? '' : new URLSearchParams(r.params).toString(),
    body,
    isBase64Encoded: base64,
    sourceIp: r.sourceIp,
    requestId: `req-${index}-${random.hex(8)}`,
    time: Date.now(),
  });
}

function directEvent(r: Request): unknown {
  return r.method === 'GET' ? { queryStringParameters: r.params } : { body: r.rawBody ?? JSON.stringify(r.params) };
}

function toEvent(random: Random, source: EventSource, r: Request, index: number): unknown {
  if (source === 'rest') return restEventFor(random, r, index);
  if (source === 'http') return httpEventFor(random, r, index);
  return directEvent(r);
}

// --- visits ---------------------------------------------------------------------------

function validVisit(random: Random, wireType: string, source: EventSource, index: number): TrafficEvent {
  const definition = resolveVisitType(wireType)!;
  const type = definition.name as VisitTypeName;
  // Direct invokes use GET-shaped events as the recipes do; API Gateway clients use both methods.
  const method = source !== 'direct' && random.chance(0.3) ? 'POST' : 'GET';
  const request: Request = { method, params: { type: wireType }, sourceIp: ipv4(random), headers: {} };
  let expect: Expectation;
  if (definition.extraField === 'ip') {
    const ip = clientIp(random);
    if (source === 'direct') {
      request.params.ip = ip;
    } else {
      request.sourceIp = ip;
      // Some clients send an ip of their own; the platform's source IP must win.
      if (random.chance(0.2)) request.params.ip = ipv4(random);
    }
    expect = { status: 202, type, ip };
  } else {
    const url = random.pick(REFERRERS);
    if (source !== 'direct' && random.chance(0.3)) request.headers.Referer = url.includes('://') ? url : `https://${url}`;
    else request.params.url = url;
    expect = { status: 202, type, url: request.params.url ?? request.headers.Referer };
  }
  return { index, label: `${source} ${source === 'direct' ? 'invoke' : method} ${wireType}`, event: toEvent(random, source, request, index), expect };
}

interface Mistake {
  readonly name: string;
  readonly status: 400 | 405 | 413;
  /** Sources where the mistake can happen (a bad client ip only matters where the client's ip is used). */
  readonly sources?: readonly EventSource[];
  readonly make: (random: Random) => Partial<Request>;
}

const MISTAKES: readonly Mistake[] = [
  { name: 'unknown type', status: 400, make: () => ({ params: { type: 'banner', url: 'test.com' } }) },
  { name: 'missing type', status: 400, make: () => ({ params: { url: 'test.com' } }) },
  { name: 'bad ip', status: 400, sources: ['direct'], make: (r) => ({ params: { type: 'type-in', ip: `${r.int(256, 999)}.1.2.3` } }) },
  { name: 'missing ip', status: 400, sources: ['direct'], make: () => ({ params: { type: 'direct' } }) },
  { name: 'javascript url', status: 400, make: () => ({ params: { type: 'referrer', url: 'javascript:alert(document.cookie)' } }) },
  { name: 'url too long', status: 400, make: () => ({ params: { type: 'referrer', url: `https://example.com/${'a'.repeat(LIMITS.urlLength)}` } }) },
  { name: 'non-JSON body', status: 400, make: () => ({ method: 'POST', rawBody: 'type=referrer&url=test.com' }) },
  {
    name: 'oversize body',
    status: 413,
    make: () => ({ method: 'POST', rawBody: JSON.stringify({ type: 'referrer', url: `https://example.com/${'b'.repeat(LIMITS.bodyBytes)}` }) }),
  },
  { name: 'wrong method', status: 405, sources: ['rest', 'http'], make: (r) => ({ method: r.pick(['PUT', 'DELETE', 'PATCH']) }) },
];

function invalidVisit(random: Random, sources: readonly EventSource[], index: number): TrafficEvent {
  const possible = MISTAKES.filter((m) => !m.sources || m.sources.some((s) => sources.includes(s)));
  const mistake = random.pick(possible);
  const allowed = sources.filter((s) => !mistake.sources || mistake.sources.includes(s));
  const source = random.pick(allowed);
  const request: Request = { method: 'GET', params: { type: 'referrer', url: 'test.com' }, sourceIp: ipv4(random), headers: {}, ...mistake.make(random) };
  return { index, label: `${source} invalid: ${mistake.name}`, event: toEvent(random, source, request, index), expect: { status: mistake.status } };
}

/** Lazily yields `count` events; bounded by `count`, so any consumer loop is too. */
export function* generateEvents(options: GenerateOptions): Generator<TrafficEvent> {
  const mix = options.mix ?? DEFAULT_MIX;
  const sources = options.sources?.length ? options.sources : EVENT_SOURCES;
  for (const key of Object.keys(mix)) {
    if (!MIX_KEYS.includes(key)) throw new MixError(`mix name ${JSON.stringify(key)} is not one of ${MIX_KEYS.join(', ')}`);
  }
  const random = createRandom(options.seed ?? 1);
  for (let index = 0; index < options.count; index++) {
    const kind = random.weighted(mix);
    yield kind === INVALID ? invalidVisit(random, sources, index) : validVisit(random, kind, random.pick(sources), index);
  }
}
