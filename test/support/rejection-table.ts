/**
 * Every class of rejected input, at both doors: how a client sends it to the agent and how it
 * would arrive on the PIPELINE for the processor, with the code each door answers. Each offending
 * value carries CANARY, which must never come back in a reason (answer, log line or DLQ attribute).
 */
import { LIMITS } from '../../src/contract/limits.ts';
import { direct, httpEvent, restEvent } from '../../scripts/traffic/events.ts';

export const CANARY = 'SECRET-TOK';
const NOW = 1_764_000_000_000;
const body = (value: Record<string, unknown>) => JSON.stringify(value);

export interface AgentDoor {
  readonly event: unknown;
  readonly status: 400 | 405 | 413;
  readonly code: string;
}

export interface ProcessorDoor {
  /** The message body as it sits on the PIPELINE. */
  readonly body: string;
  /** The DLQ's error_code; `refused by SQS` when SQS itself will not carry such a body. */
  readonly code: string;
}

export interface RejectedClass {
  readonly name: string;
  /** Undefined where the class cannot reach the door (the agent stamps visit_id, SQS never sends an empty body). */
  readonly agent?: AgentDoor;
  readonly processor?: ProcessorDoor;
}

export const SQS_REFUSES = 'refused by SQS';
const longUrl = `https://example.com/${CANARY}${'a'.repeat(LIMITS.urlLength)}`;
/** Far larger than a body may be: still the url's own limit that the client is told about. */
const hugeUrl = `https://example.com/${CANARY}${'a'.repeat(100_000)}`;

export const REJECTED_CLASSES: readonly RejectedClass[] = [
  {
    name: 'malformed JSON',
    agent: { event: httpEvent('POST', { body: `${CANARY}-rest-of-a-token: not json` }), status: 400, code: 'malformed_json' },
    processor: { body: `${CANARY}-rest-of-a-token: not json`, code: 'malformed_json' },
  },
  { name: 'empty body', agent: { event: restEvent('POST', { body: '' }), status: 400, code: 'malformed_json' } },
  {
    name: 'body over the size limit',
    agent: {
      event: restEvent('POST', { body: body({ type: 'referrer', url: `${CANARY}.com/${'b'.repeat(LIMITS.bodyBytes)}` }) }),
      status: 413,
      code: 'body_too_large',
    },
    processor: { body: body({ type: 'referrer', created_at: NOW, url: `${CANARY}.com/${'b'.repeat(LIMITS.bodyBytes)}` }), code: 'body_too_large' },
  },
  {
    name: 'oversized url parameter (not a body size)',
    agent: { event: direct({ type: 'referrer', url: hugeUrl }), status: 400, code: 'invalid_url' },
    processor: { body: body({ type: 'referrer', created_at: NOW, url: longUrl }), code: 'invalid_url' },
  },
  {
    name: 'character SQS refuses (U+FFFF) in a url',
    agent: { event: direct({ type: 'referrer', url: `${CANARY}.com/\uffff` }), status: 400, code: 'invalid_url' },
    // Raw, SQS refuses the body; JSON-escaped it arrives, and decodes to the same character.
    processor: { body: `{"type":"referrer","created_at":${NOW},"url":"${CANARY}.com/\\uffff"}`, code: 'invalid_url' },
  },
  {
    name: 'lone surrogate in a url',
    agent: { event: httpEvent('POST', { body: `{"type":"referrer","url":"${CANARY}.com/\\ud800"}` }), status: 400, code: 'invalid_url' },
    processor: { body: `{"type":"referrer","created_at":${NOW},"url":"${CANARY}.com/\\ud800"}`, code: 'invalid_url' },
  },
  { name: 'character SQS refuses in the raw body', processor: { body: `{"type":"referrer","created_at":${NOW},"url":"${CANARY}\uffff"}`, code: SQS_REFUSES } },
  {
    name: 'not a JSON object',
    agent: { event: httpEvent('POST', { body: `["${CANARY}"]` }), status: 400, code: 'schema_violation' },
    processor: { body: `["${CANARY}"]`, code: 'schema_violation' },
  },
  {
    name: 'field of the wrong type',
    agent: { event: httpEvent('POST', { body: `{"type":"referrer","url":{"${CANARY}":1}}` }), status: 400, code: 'schema_violation' },
    processor: { body: body({ type: 'referrer', created_at: `${CANARY}` }), code: 'schema_violation' },
  },
  {
    name: 'unknown field',
    agent: { event: httpEvent('POST', { body: body({ type: 'referrer', url: 'test.com', [CANARY]: 1 }) }), status: 400, code: 'unexpected_field' },
    processor: { body: body({ type: 'referrer', created_at: NOW, [CANARY]: 1 }), code: 'unexpected_field' },
  },
  {
    name: 'field the client may not set, or of the other visit type',
    agent: { event: httpEvent('POST', { body: body({ type: 'referrer', url: 'test.com', created_at: CANARY }) }), status: 400, code: 'unexpected_field' },
    processor: { body: body({ type: 'referrer', created_at: NOW, ip: `10.0.0.1${CANARY}` }), code: 'unexpected_field' },
  },
  {
    name: 'unknown visit type',
    agent: { event: direct({ type: CANARY, url: 'test.com' }), status: 400, code: 'invalid_type' },
    processor: { body: body({ type: CANARY, created_at: NOW }), code: 'invalid_type' },
  },
  {
    name: 'invalid ip',
    agent: { event: direct({ type: 'type-in', ip: `${CANARY}.1.2.3` }), status: 400, code: 'invalid_ip' },
    processor: { body: body({ type: 'type-in', created_at: NOW, ip: `${CANARY}.1.2.3` }), code: 'invalid_ip' },
  },
  {
    name: 'script url disguised as host:port',
    agent: { event: direct({ type: 'referrer', url: `javascript:1/alert('${CANARY}')` }), status: 400, code: 'invalid_url' },
    processor: { body: body({ type: 'referrer', created_at: NOW, url: `javascript:1/alert('${CANARY}')` }), code: 'invalid_url' },
  },
  {
    name: 'script url in the Referer header',
    agent: {
      event: restEvent('GET', { query: { type: 'referrer' }, headers: { Referer: `JaVaScRiPt:alert('${CANARY}')` } }),
      status: 400,
      code: 'invalid_url',
    },
    processor: { body: body({ type: 'referrer', created_at: NOW, url: `JaVaScRiPt:alert('${CANARY}')` }), code: 'invalid_url' },
  },
  {
    name: 'percent-encoded scheme',
    agent: { event: direct({ type: 'referrer', url: `%6Aavascript:1/${CANARY}` }), status: 400, code: 'invalid_url' },
    processor: { body: body({ type: 'referrer', created_at: NOW, url: `%6Aavascript:1/${CANARY}` }), code: 'invalid_url' },
  },
  {
    name: 'url with credentials',
    agent: { event: direct({ type: 'referrer', url: `https://user:${CANARY}@example.com/` }), status: 400, code: 'invalid_url' },
    processor: { body: body({ type: 'referrer', created_at: NOW, url: `https://user:${CANARY}@example.com/` }), code: 'invalid_url' },
  },
  {
    name: 'created_at out of range',
    processor: { body: body({ type: 'referrer', created_at: 17, url: `${CANARY}.com` }), code: 'schema_violation' },
  },
  {
    name: 'invalid visit_id',
    agent: { event: httpEvent('POST', { body: body({ type: 'referrer', url: 'test.com', visit_id: CANARY }) }), status: 400, code: 'unexpected_field' },
    processor: { body: body({ type: 'referrer', created_at: NOW, visit_id: `../${CANARY}` }), code: 'invalid_visit_id' },
  },
  {
    name: 'missing type',
    agent: { event: direct({ url: `${CANARY}.com` }), status: 400, code: 'missing_field' },
    processor: { body: body({ created_at: NOW, url: `${CANARY}.com` }), code: 'schema_violation' },
  },
  { name: 'missing url and Referer', agent: { event: restEvent('GET', { query: { type: 'referrer', x: CANARY } }), status: 400, code: 'missing_field' } },
  { name: 'method not allowed', agent: { event: restEvent('PUT', { body: CANARY }), status: 405, code: 'method_not_allowed' } },
  { name: 'event of no known shape', agent: { event: { queryStringParameters: CANARY }, status: 400, code: 'invalid_event' } },
  {
    name: 'query value that is not a string',
    agent: { event: { queryStringParameters: { type: 'type-in', ip: { [CANARY]: 1 } } }, status: 400, code: 'schema_violation' },
  },
];
