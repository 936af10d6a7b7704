/**
 * SigV4 for the processor's per-message calls: a POST with a body and no query. The SDK's signer
 * is general (any request, query strings, presigning, event streams) and copies the request and
 * formats the date on every call; this one computes the same signature for these requests without
 * that work (test/unit/sigv4.test.ts compares the two over generated requests, credentials and
 * dates; `node test/bench/sqs-client.ts` measures both). Pure but for Node's crypto.
 */
import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * What is signed. Out of scope, as the per-message calls never need them: a query string, header
 * names not in lower case, a `date` header (the SDK's signer drops one), and the SDK's signing
 * options (`signingEscapePath` off, another signing name or region).
 */
export interface SignedPost {
  /** Where the request goes (the endpoint's path); signed as the SDK escapes it. */
  readonly path: string;
  /** Its headers, names in lower case; `host` among them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Headers never signed: the SDK's list (a proxy or the runtime may change them). */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** The headers to add to the request: its date, body hash, session token and authorization. */
export function signPost(post: SignedPost, credentials: Credentials, region: string, service: string, date: Date): Record<string, string> {
  if (typeof credentials?.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string') {
    throw new Error('Resolved credential object is not valid');
  }
  const longDate = longDateOf(date);
  const shortDate = longDate.slice(0, 8);
  const payloadHash = hash('sha256', post.body, 'hex');
  const added: Record<string, string> = { 'x-amz-content-sha256': payloadHash, 'x-amz-date': longDate };
  if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;
  const all = { ...post.headers, ...added };
  const names = Object.keys(all)
    .filter((name) => !UNSIGNABLE.has(name) && !name.startsWith('proxy-') && !name.startsWith('sec-'))
    .sort();
  let canonicalHeaders = '';
  for (const name of names) canonicalHeaders += `${name}:${canonicalValue(all[name]!)}\n`;
  const signedHeaders = names.join(';');
  const canonicalRequest = `POST\n${canonicalPath(post.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, shortDate, region, service))
    .update(stringToSign)
    .digest('hex');
  added.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return added;
}

/** The SDK's: line breaks and runs of spaces or tabs as one space, one space trimmed at each end. */
function canonicalValue(value: string): string {
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

let lastSecond = Number.NaN;
let lastLongDate = '';

/** `YYYYMMDDTHHMMSSZ`, formatted once per second. */
function longDateOf(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastLongDate = date
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:]/g, '');
  }
  return lastLongDate;
}

/** The SDK's canonical path: segments normalised (`.`, `..`, empty ones), each escaped, slashes kept. */
function canonicalPath(path: string): string {
  if (path === '/') return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

function escapeUri(uri: string): string {
  return encodeURIComponent(uri).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The last derived signing key and what it was derived from (secret, day, region, service): the
 * same for every call of a day until the credentials change. Only the current secret is kept,
 * which the credential provider holds anyway.
 */
let lastKey: { readonly secret: string; readonly shortDate: string; readonly region: string; readonly service: string; readonly key: KeyObject } | undefined;

function signingKey(secret: string, shortDate: string, region: string, service: string): KeyObject {
  const last = lastKey;
  if (last?.secret === secret && last.shortDate === shortDate && last.region === region && last.service === service) return last.key;
  const date = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
  const inRegion = createHmac('sha256', date).update(region).digest();
  const forService = createHmac('sha256', inRegion).update(service).digest();
  const key = createSecretKey(createHmac('sha256', forService).update('aws4_request').digest());
  lastKey = { secret, shortDate, region, service, key };
  return key;
}
