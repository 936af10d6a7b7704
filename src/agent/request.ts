/**
 * Reads a Lambda event into the few things the agent needs: the client's parameters
 * (type, ip, url), the source IP the platform saw and the Referer header.
 * Three shapes are understood: a direct invoke (`queryStringParameters`, or a `body`),
 * an API Gateway REST API proxy event (payload 1.0) and an HTTP API proxy event (payload 2.0).
 * Pure: never throws, whatever the event.
 */
import { LIMITS } from '../contract/limits.ts';
import { badRequest, methodNotAllowed, tooLarge, type AgentRejection } from './rejection.ts';

/** `direct`: invoked with a hand-made event; `rest`: API Gateway REST API (1.0); `http`: HTTP API (2.0). */
export type EventKind = 'direct' | 'rest' | 'http';

/** What the client supplied; empty strings count as absent. */
export interface RequestParams {
  readonly type?: string;
  readonly ip?: string;
  readonly url?: string;
}

export interface AgentRequest {
  readonly kind: EventKind;
  readonly params: RequestParams;
  /**
   * True when the event carries a request context: the platform, not the client, then says
   * where the request came from, and a client-supplied `ip` is ignored.
   */
  readonly hasRequestContext: boolean;
  /** The source IP from the request context, as the platform reported it. */
  readonly sourceIp?: string;
  /** The Referer header, when the request had one. */
  readonly referer?: string;
}

export type RequestResult = { readonly ok: true; readonly request: AgentRequest } | { readonly ok: false; readonly rejection: AgentRejection };

const PARAM_NAMES = ['type', 'ip', 'url'] as const;
const ALLOWED_METHODS = ['GET', 'POST'] as const;
// OPTIONS is answered before the request is read, as a CORS preflight (cors.ts).
export const ALLOW_HEADER = [...ALLOWED_METHODS, 'OPTIONS'].join(', ');
const EXAMPLE = '{"queryStringParameters":{"type":"referrer","url":"test.com"}}';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(rejection: AgentRejection): RequestResult {
  return { ok: false, rejection };
}

function kindOf(event: Json): EventKind {
  const context = event.requestContext;
  if (event.version === '2.0' || (isRecord(context) && isRecord(context.http))) return 'http';
  if (typeof event.httpMethod === 'string' || isRecord(context)) return 'rest';
  return 'direct';
}

function methodOf(event: Json, kind: EventKind): string | undefined {
  if (kind === 'rest') return typeof event.httpMethod === 'string' ? event.httpMethod.toUpperCase() : undefined;
  if (kind === 'http') {
    const http = isRecord(event.requestContext) ? event.requestContext.http : undefined;
    return isRecord(http) && typeof http.method === 'string' ? http.method.toUpperCase() : undefined;
  }
  return undefined;
}

function sourceIpOf(event: Json, kind: EventKind): string | undefined {
  const context = event.requestContext;
  if (!isRecord(context)) return undefined;
  const holder = kind === 'http' ? context.http : context.identity;
  return isRecord(holder) && typeof holder.sourceIp === 'string' && holder.sourceIp !== '' ? holder.sourceIp : undefined;
}

/** A header by name, case-insensitively (REST APIs keep the client's case, HTTP APIs lower-case it). */
function headerOf(event: Json, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const source of [event.headers, event.multiValueHeaders]) {
    if (!isRecord(source)) continue;
    for (const [key, value] of Object.entries(source)) {
      if (key.toLowerCase() !== wanted) continue;
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string' && first !== '') return first;
    }
  }
  return undefined;
}

/** How many times a parameter appears in the query string, where the event lets us tell. */
function occurrences(event: Json, kind: EventKind, name: string): number {
  if (kind === 'http' && typeof event.rawQueryString === 'string') {
    return new URLSearchParams(event.rawQueryString).getAll(name).length;
  }
  const multi = event.multiValueQueryStringParameters;
  if (isRecord(multi) && Array.isArray(multi[name])) return multi[name].length;
  return 1;
}

function paramsFromQuery(event: Json, kind: EventKind): { params: RequestParams } | { rejection: AgentRejection } {
  const query = event.queryStringParameters;
  if (query === undefined || query === null) return { params: {} };
  if (!isRecord(query)) return { rejection: badRequest('invalid_event', 'queryStringParameters must be an object of strings') };
  const params: Record<string, string> = {};
  for (const name of PARAM_NAMES) {
    const value = query[name];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') {
      return { rejection: badRequest('schema_violation', `queryStringParameters.${name}: expected a string`) };
    }
    if (occurrences(event, kind, name) > 1) {
      return { rejection: badRequest('schema_violation', `${name} is given more than once in the query string`) };
    }
    params[name] = value;
  }
  // Other query parameters (cache busters, campaign tags) are ignored: beacons carry them.
  return { params };
}

/** The request body as text, bounded before anything is decoded or parsed. */
function bodyText(event: Json): { text: string } | { rejection: AgentRejection } {
  const body = event.body;
  if (body === undefined || body === null || body === '') {
    return { rejection: badRequest('malformed_json', 'body is empty: POST a JSON object such as {"type":"referrer","url":"test.com"}') };
  }
  if (isRecord(body)) return { text: JSON.stringify(body) }; // a direct invoke may pass the object itself
  if (typeof body !== 'string') return { rejection: badRequest('invalid_event', 'body must be a string (JSON text)') };
  const base64 = event.isBase64Encoded === true;
  const estimate = base64 ? Math.floor((body.length * 3) / 4) : body.length;
  if (estimate > LIMITS.bodyBytes * 4) return { rejection: tooLarge(`body is over the ${LIMITS.bodyBytes} byte limit`) };
  const bytes = base64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > LIMITS.bodyBytes) {
    return { rejection: tooLarge(`body is ${bytes.length} bytes, over the ${LIMITS.bodyBytes} byte limit`) };
  }
  return { text: bytes.toString('utf8') };
}

function paramsFromBody(event: Json): { params: RequestParams } | { rejection: AgentRejection } {
  const read = bodyText(event);
  if ('rejection' in read) return read;
  let value: unknown;
  try {
    value = JSON.parse(read.text);
  } catch {
    // V8's message quotes the start of the body: never pass it on.
    return { rejection: badRequest('malformed_json', 'body is not valid JSON') };
  }
  if (!isRecord(value)) return { rejection: badRequest('schema_violation', 'body must be a JSON object such as {"type":"referrer","url":"test.com"}') };
  const params: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!(PARAM_NAMES as readonly string[]).includes(key)) {
      const hint = key === 'created_at' || key === 'visit_id' ? `${key} is set by the agent, not the client` : 'a visit has type, ip and url';
      return { rejection: badRequest('unexpected_field', `the body has a field other than type, ip and url: ${hint}`) };
    }
    if (field === null || field === '') continue;
    if (typeof field !== 'string') return { rejection: badRequest('schema_violation', `${key}: expected a string`) };
    params[key] = field;
  }
  return { params };
}

/** What a browser's request says about where it comes from, read before the visit itself. */
export interface BrowserFacts {
  readonly kind: EventKind;
  /** Upper case; absent on a direct invoke. */
  readonly method?: string;
  /** The Origin header; browsers send it on every POST and on preflights. */
  readonly origin?: string;
  /** Sec-Fetch-Site: `cross-site` on a request another site's page made, even without Origin (an image GET). */
  readonly fetchSite?: string;
  /** Access-Control-Request-Method: present only on a CORS preflight. */
  readonly preflightMethod?: string;
}

/** The headers CORS decides on; undefined for anything that is not an object. */
export function readBrowserFacts(event: unknown): BrowserFacts | undefined {
  if (!isRecord(event)) return undefined;
  const kind = kindOf(event);
  const method = methodOf(event, kind);
  const origin = headerOf(event, 'origin');
  const fetchSite = headerOf(event, 'sec-fetch-site');
  const preflightMethod = headerOf(event, 'access-control-request-method');
  return {
    kind,
    ...(method !== undefined ? { method } : {}),
    ...(origin !== undefined ? { origin } : {}),
    ...(fetchSite !== undefined ? { fetchSite: fetchSite.toLowerCase() } : {}),
    ...(preflightMethod !== undefined ? { preflightMethod: preflightMethod.toUpperCase() } : {}),
  };
}

/** Reads an event of any shape; rejects what no shape explains. */
export function readRequest(event: unknown): RequestResult {
  if (!isRecord(event)) return fail(badRequest('invalid_event', `the event must be a JSON object, for example ${EXAMPLE}`));
  const kind = kindOf(event);
  const hasRequestContext = isRecord(event.requestContext);
  const sourceIp = sourceIpOf(event, kind);
  const referer = headerOf(event, 'referer');

  let fromBody: boolean;
  if (kind === 'direct') {
    const hasQuery = event.queryStringParameters !== undefined && event.queryStringParameters !== null;
    if (!hasQuery && (event.body === undefined || event.body === null)) {
      return fail(badRequest('invalid_event', `the event has neither queryStringParameters nor a body: send for example ${EXAMPLE}`));
    }
    fromBody = !hasQuery;
  } else {
    const method = methodOf(event, kind);
    if (method === undefined) {
      const where = kind === 'http' ? 'requestContext.http.method' : 'httpMethod';
      return fail(badRequest('invalid_event', `the API Gateway event has no ${where}`));
    }
    if (!(ALLOWED_METHODS as readonly string[]).includes(method)) {
      return fail(methodNotAllowed('the method is not allowed: use GET with a query string or POST with a JSON body'));
    }
    fromBody = method === 'POST';
  }

  const read = fromBody ? paramsFromBody(event) : paramsFromQuery(event, kind);
  if ('rejection' in read) return fail(read.rejection);
  return {
    ok: true,
    request: {
      kind,
      params: read.params,
      hasRequestContext,
      ...(sourceIp !== undefined ? { sourceIp } : {}),
      ...(referer !== undefined ? { referer } : {}),
    },
  };
}
