/**
 * The wire contract of a PIPELINE message body, shared by the agent (which builds it)
 * and the processor (which checks it). One rejection reason per failure, with a stable code.
 * A reason names the rule that failed and never quotes the body or a value: it goes to logs,
 * DLQ attributes and HTTP answers, where rejected content must not travel.
 */
import { isIP } from 'node:net';
import { Number as RtNumber, Object as RtObject, String as RtString } from 'runtypes';
import { CREATED_AT_RANGE, LIMITS } from './limits.ts';
import { SQS_TEXT_RULE, isSqsText } from './sqs-text.ts';
import { checkUrl } from './url.ts';
import { ACCEPTED_TYPE_NAMES, EXTRA_FIELDS, resolveVisitType, type ExtraField, type VisitTypeName } from './visit-types.ts';

export { checkUrl };

/** A visit as the processor stores it: type normalised, idempotency key chosen, its type's extra field if sent. */
export interface Visit extends Readonly<Partial<Record<ExtraField, string>>> {
  readonly visitId: string;
  readonly type: VisitTypeName;
  readonly createdAt: number;
}

/** The JSON body on the wire. */
export interface VisitBody extends Partial<Record<ExtraField, string>> {
  type: string;
  created_at: number;
  visit_id?: string;
}

export type RejectionCode =
  | 'body_too_large'
  | 'invalid_character'
  | 'malformed_json'
  | 'schema_violation'
  | 'unexpected_field'
  | 'invalid_type'
  | `invalid_${ExtraField}`
  | 'invalid_visit_id';

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly visit: Visit } | { readonly ok: false; readonly rejection: Rejection };

const VISIT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** The field types of a body; the value checks (ip, url, registry) come after, with their own codes. */
export const BodyShape = RtObject({
  type: RtString,
  created_at: RtNumber,
  visit_id: RtString.optional(),
  ...(Object.fromEntries(EXTRA_FIELDS.map((field) => [field, RtString.optional()])) as Record<ExtraField, ReturnType<typeof RtString.optional>>),
});

const KNOWN_FIELDS = new Set(['type', 'created_at', 'visit_id', ...EXTRA_FIELDS]);

const absentOrString = (value: object, key: string) => !Object.hasOwn(value, key) || typeof (value as Record<string, unknown>)[key] === 'string';

/**
 * The field types BodyShape checks, written out for a body that passes them (nearly every one):
 * it accepts only what BodyShape accepts, so runtypes still decides, and names the field, for
 * everything else. BodyShape allocates a result per field; this is called once per message.
 */
export function hasBodyShape(value: object): value is VisitBody {
  const body = value as Record<string, unknown>;
  return (
    typeof body.type === 'string' &&
    Object.hasOwn(body, 'type') &&
    typeof body.created_at === 'number' &&
    Number.isFinite(body.created_at) &&
    Object.hasOwn(body, 'created_at') &&
    absentOrString(body, 'visit_id') &&
    EXTRA_FIELDS.every((field) => absentOrString(body, field))
  );
}

function reject(code: RejectionCode, message: string): ParseResult {
  return { ok: false, rejection: { code, message } };
}

/** Checks an IPv4 or IPv6 address; returns the rule it breaks, or undefined. */
export function checkIp(ip: string): string | undefined {
  if (ip.length > LIMITS.ipLength) return `ip is longer than ${LIMITS.ipLength} characters`;
  if (isIP(ip) === 0) return 'ip is not a valid IPv4 or IPv6 address';
  return undefined;
}

/** The value check of each extra field; its failures carry the code `invalid_<field>`. */
const FIELD_CHECKS: Readonly<Record<ExtraField, (value: string) => string | undefined>> = { ip: checkIp, url: checkUrl };

/**
 * Validates a decoded body. `fallbackId` (the SQS MessageId) is the idempotency key
 * when an older agent sent no `visit_id`.
 */
export function validateVisitBody(value: unknown, fallbackId: string): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('schema_violation', 'body must be a JSON object');
  }
  for (const key of Object.keys(value)) {
    if (!KNOWN_FIELDS.has(key)) return reject('unexpected_field', `body has a field other than ${[...KNOWN_FIELDS].join(', ')}`);
  }
  let body: VisitBody;
  if (hasBodyShape(value)) {
    body = value;
  } else {
    const shape = BodyShape.inspect(value);
    if (!shape.success) {
      const field = 'details' in shape ? Object.keys(shape.details ?? {})[0] : undefined;
      return reject(
        'schema_violation',
        field !== undefined && KNOWN_FIELDS.has(field) ? `${field}: ${describeExpected(field)}` : 'body does not match the visit schema',
      );
    }
    body = shape.value;
  }

  if (body.type.length > LIMITS.typeLength) return reject('invalid_type', `type is longer than ${LIMITS.typeLength} characters`);
  const definition = resolveVisitType(body.type);
  if (!definition) return reject('invalid_type', `type is not a known visit type (${ACCEPTED_TYPE_NAMES.join(', ')})`);

  const createdAt = body.created_at;
  if (!Number.isSafeInteger(createdAt) || createdAt < CREATED_AT_RANGE.min || createdAt > CREATED_AT_RANGE.max) {
    return reject('schema_violation', 'created_at: expected epoch milliseconds (an integer between years 2000 and 2100)');
  }

  if (body.visit_id !== undefined) {
    if (body.visit_id.length > LIMITS.visitIdLength || !VISIT_ID_PATTERN.test(body.visit_id)) {
      return reject('invalid_visit_id', `visit_id must be 1 to ${LIMITS.visitIdLength} characters of [A-Za-z0-9._:-]`);
    }
  }

  for (const field of EXTRA_FIELDS) {
    if (body[field] !== undefined && field !== definition.extraField) {
      return reject('unexpected_field', `${field} is not a field of ${definition.name} visits`);
    }
  }
  // Only the type's own field is left to check.
  const field = definition.extraField;
  const extra = body[field];
  if (extra !== undefined) {
    const reason = FIELD_CHECKS[field](extra);
    if (reason) return reject(`invalid_${field}`, reason);
  }

  const visit: Visit = {
    visitId: body.visit_id ?? fallbackId,
    type: definition.name as VisitTypeName,
    createdAt,
    ...(extra !== undefined ? { [field]: extra } : {}),
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

/** Checks what SQS itself checks on a body, size and characters; returns the rejection or undefined. */
export function checkBodyText(body: string): Rejection | undefined {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > LIMITS.bodyBytes) return { code: 'body_too_large', message: `body is ${bytes} bytes, over the ${LIMITS.bodyBytes} byte limit` };
  if (!isSqsText(body)) return { code: 'invalid_character', message: `body contains a character outside ${SQS_TEXT_RULE}` };
  return undefined;
}

/** Parses a raw message body: size and characters, JSON, then the contract. */
export function parseVisitBody(body: string | undefined, fallbackId: string): ParseResult {
  if (body === undefined || body.length === 0) return reject('malformed_json', 'body is empty');
  const text = checkBodyText(body);
  if (text) return { ok: false, rejection: text };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    // V8's message quotes the start of the body: never pass it on.
    return reject('malformed_json', 'body is not valid JSON');
  }
  return validateVisitBody(value, fallbackId);
}

/** The wire body for a visit (what the agent sends). */
export function toVisitBody(visit: Visit): VisitBody {
  return {
    type: visit.type,
    created_at: visit.createdAt,
    visit_id: visit.visitId,
    ...Object.fromEntries(EXTRA_FIELDS.filter((field) => visit[field] !== undefined).map((field) => [field, visit[field]])),
  };
}
