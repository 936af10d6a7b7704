/**
 * The wire contract of a PIPELINE message body, shared by the agent (which builds it)
 * and the processor (which checks it). One rejection reason per failure, with a stable code.
 */
import { isIP } from 'node:net';
import { Number as RtNumber, Object as RtObject, String as RtString } from 'runtypes';
import { CREATED_AT_RANGE, LIMITS } from './limits.ts';
import { resolveVisitType, type VisitTypeName } from './visit-types.ts';

/** A visit as the processor stores it: type normalised, idempotency key chosen. */
export interface Visit {
  readonly visitId: string;
  readonly type: VisitTypeName;
  readonly createdAt: number;
  readonly ip?: string;
  readonly url?: string;
}

/** The JSON body on the wire. */
export interface VisitBody {
  type: string;
  created_at: number;
  visit_id?: string;
  ip?: string;
  url?: string;
}

export type RejectionCode =
  | 'body_too_large'
  | 'malformed_json'
  | 'schema_violation'
  | 'unexpected_field'
  | 'invalid_type'
  | 'invalid_ip'
  | 'invalid_url'
  | 'invalid_visit_id';

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly visit: Visit } | { readonly ok: false; readonly rejection: Rejection };

const VISIT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** The field types of a body; the value checks (ip, url, registry) come after, with their own codes. */
const BodyShape = RtObject({
  type: RtString,
  created_at: RtNumber,
  visit_id: RtString.optional(),
  ip: RtString.optional(),
  url: RtString.optional(),
});

const KNOWN_FIELDS = new Set(['type', 'created_at', 'visit_id', 'ip', 'url']);

function reject(code: RejectionCode, message: string): ParseResult {
  return { ok: false, rejection: { code, message } };
}

/** Quote a piece of untrusted input for an error message, bounded and on one line. */
export function quote(value: unknown, max = 64): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return JSON.stringify(printable.length > max ? `${printable.slice(0, max)}…` : printable);
}

/** Checks an IPv4 or IPv6 address; returns a reason or undefined. */
export function checkIp(ip: string): string | undefined {
  if (ip.length > LIMITS.ipLength) return `ip is longer than ${LIMITS.ipLength} characters`;
  if (isIP(ip) === 0) return `ip ${quote(ip)} is not a valid IPv4 or IPv6 address`;
  return undefined;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):(?!\d)/i;
const HOST_LABELS = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Checks an http(s) URL or a bare host (`test.com`, `test.com/path`); returns a reason or undefined. */
export function checkUrl(url: string): string | undefined {
  if (url.length > LIMITS.urlLength) return `url is longer than ${LIMITS.urlLength} characters`;
  if (url.length === 0) return 'url is empty';
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return 'url contains whitespace or control characters';
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    return `url scheme ${quote(scheme)} is not allowed (http, https or a bare host)`;
  }
  let parsed: URL;
  try {
    parsed = new URL(scheme === undefined ? `http://${url}` : url);
  } catch {
    return `url ${quote(url)} is not a valid URL`;
  }
  if (parsed.username || parsed.password) return 'url must not carry credentials';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0 && !HOST_LABELS.test(host)) return `url host ${quote(parsed.hostname)} is not a valid host name`;
  return undefined;
}

/**
 * Validates a decoded body. `fallbackId` (the SQS MessageId) is the idempotency key
 * when an older agent sent no `visit_id`.
 */
export function validateVisitBody(value: unknown, fallbackId: string): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('schema_violation', 'body must be a JSON object');
  }
  for (const key of Object.keys(value)) {
    if (!KNOWN_FIELDS.has(key)) return reject('unexpected_field', `unexpected field ${quote(key, 32)}`);
  }
  const shape = BodyShape.inspect(value);
  if (!shape.success) {
    const field = 'details' in shape ? Object.keys(shape.details ?? {})[0] : undefined;
    return reject('schema_violation', field ? `${field}: ${describeExpected(field)}` : shape.message);
  }
  const body = shape.value;

  if (body.type.length > LIMITS.typeLength) return reject('invalid_type', `type is longer than ${LIMITS.typeLength} characters`);
  const definition = resolveVisitType(body.type);
  if (!definition) return reject('invalid_type', `unknown visit type ${quote(body.type)}`);

  const createdAt = body.created_at;
  if (!Number.isSafeInteger(createdAt) || createdAt < CREATED_AT_RANGE.min || createdAt > CREATED_AT_RANGE.max) {
    return reject('schema_violation', 'created_at: expected epoch milliseconds (an integer between years 2000 and 2100)');
  }

  if (body.visit_id !== undefined) {
    if (body.visit_id.length > LIMITS.visitIdLength || !VISIT_ID_PATTERN.test(body.visit_id)) {
      return reject('invalid_visit_id', `visit_id must be 1 to ${LIMITS.visitIdLength} characters of [A-Za-z0-9._:-]`);
    }
  }

  for (const field of ['ip', 'url'] as const) {
    if (body[field] !== undefined && field !== definition.extraField) {
      return reject('unexpected_field', `${field} is not a field of ${definition.name} visits`);
    }
  }
  if (body.ip !== undefined) {
    const reason = checkIp(body.ip);
    if (reason) return reject('invalid_ip', reason);
  }
  if (body.url !== undefined) {
    const reason = checkUrl(body.url);
    if (reason) return reject('invalid_url', reason);
  }

  const visit: Visit = {
    visitId: body.visit_id ?? fallbackId,
    type: definition.name as VisitTypeName,
    createdAt,
    ...(body.ip !== undefined ? { ip: body.ip } : {}),
    ...(body.url !== undefined ? { url: body.url } : {}),
  };
  return { ok: true, visit };
}

function describeExpected(field: string): string {
  switch (field) {
    case 'type':
      return 'expected a string';
    case 'created_at':
      return 'expected a number (epoch milliseconds)';
    default:
      return 'expected a string when present';
  }
}

/** Parses a raw message body: size, JSON, then the contract. */
export function parseVisitBody(body: string | undefined, fallbackId: string): ParseResult {
  if (body === undefined || body.length === 0) return reject('malformed_json', 'body is empty');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > LIMITS.bodyBytes) return reject('body_too_large', `body is ${bytes} bytes, over the ${LIMITS.bodyBytes} byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return reject('malformed_json', `body is not valid JSON (${(error as Error).message.slice(0, 80)})`);
  }
  return validateVisitBody(value, fallbackId);
}

/** The wire body for a visit (what the agent sends). */
export function toVisitBody(visit: Visit): VisitBody {
  return {
    type: visit.type,
    created_at: visit.createdAt,
    visit_id: visit.visitId,
    ...(visit.ip !== undefined ? { ip: visit.ip } : {}),
    ...(visit.url !== undefined ? { url: visit.url } : {}),
  };
}
