/**
 * Every bad input gets a 400, 405 or 413 naming what is wrong, and nothing is enqueued.
 * A property test adds that no event at all makes the handler throw.
 */
import test from 'ava';
import fc from 'fast-check';
import { LIMITS } from '../../src/contract/limits.ts';
import { parseVisitBody } from '../../src/contract/visit.ts';
import { bodyOf, recordingAgent } from './support/agent.ts';
import { direct, httpEvent, restEvent } from '../../scripts/traffic/events.ts';

interface Case {
  readonly name: string;
  readonly event: unknown;
  readonly status: 400 | 405 | 413;
  readonly error: string;
  /** A fragment the details must contain, so the message names the problem. */
  readonly mentions: RegExp;
}

const huge = `https://example.com/${'x'.repeat(LIMITS.bodyBytes)}`;
const HUGE_BODY = JSON.stringify({ type: 'referrer', url: huge });
const base64 = (text: string) => Buffer.from(text).toString('base64');
const NO_SOURCE_IP = { ...(restEvent('GET', { query: { type: 'type-in', ip: '127.0.0.1' } }) as object), requestContext: { stage: 'prod' } };
const TYPE_TWICE = {
  ...(restEvent('GET', { query: { type: 'referrer', url: 'test.com' } }) as object),
  multiValueQueryStringParameters: { type: ['type-in', 'referrer'], url: ['test.com'] },
};
const URL_TWICE = 'type=referrer&url=a.com&url=b.com';

/** A 400 with `error` whose details match `mentions`. */
const bad = (name: string, event: unknown, error: string, mentions: RegExp): Case => ({ name, event, status: 400, error, mentions });
/** A 405: the method is not one the entry takes. */
const bad405 = (name: string, event: unknown, error: string, mentions: RegExp): Case => ({ name, event, status: 405, error, mentions });
/** A 413: the body is over the limit. */
const tooLarge = (name: string, event: unknown, mentions: RegExp): Case => ({ name, event, status: 413, error: 'body_too_large', mentions });

const CASES: readonly Case[] = [
  bad('missing type (direct)', direct({ ip: '127.0.0.1' }), 'missing_field', /type is missing.*type-in, referrer, direct/),
  bad('missing type (REST GET)', restEvent('GET', { query: { url: 'test.com' } }), 'missing_field', /type is missing/),
  bad('missing type (HTTP POST)', httpEvent('POST', { body: '{"url":"test.com"}' }), 'missing_field', /type is missing/),
  bad('empty type', direct({ type: '', url: 'test.com' }), 'missing_field', /type is missing/),
  bad('unknown type', direct({ type: 'banner', url: 'test.com' }), 'invalid_type', /type is not a known visit type \(type-in, referrer, direct\)/),
  bad('type in the wrong case', direct({ type: 'Type-In', ip: '127.0.0.1' }), 'invalid_type', /not a known visit type/),
  bad('overlong type', direct({ type: 't'.repeat(200) }), 'invalid_type', /type is longer than/),
  bad('bad IPv4', direct({ type: 'type-in', ip: '999.1.2.3' }), 'invalid_ip', /ip is not a valid IPv4 or IPv6 address \(ip taken from the ip parameter\)/),
  bad('ip that is a host name', direct({ type: 'direct', ip: 'localhost' }), 'invalid_ip', /ip is not a valid/),
  bad('missing ip on a direct invoke', direct({ type: 'type-in' }), 'missing_field', /need an ip.*queryStringParameters/),
  bad('request context without a source IP', NO_SOURCE_IP, 'missing_field', /request context has no source IP/),
  bad('console test source IP', restEvent('GET', { query: { type: 'type-in' }, sourceIp: 'test-invoke-source-ip' }), 'invalid_ip', /request context/),
  bad('javascript: url', direct({ type: 'referrer', url: 'javascript:alert(1)' }), 'invalid_url', /scheme other than http:\/\/ or https:\/\//),
  bad(
    'JavaScript: url in Referer',
    restEvent('GET', { query: { type: 'referrer' }, headers: { Referer: 'JavaScript:alert(1)' } }),
    'invalid_url',
    /Referer header/,
  ),
  bad('data: url', httpEvent('GET', { query: { type: 'referrer', url: 'data:text/html,<script>alert(1)</script>' } }), 'invalid_url', /scheme other than http/),
  bad('ftp url', direct({ type: 'referrer', url: 'ftp://files.example.com/' }), 'invalid_url', /scheme other than http/),
  bad('url with credentials', direct({ type: 'referrer', url: 'https://user:pw@example.com/' }), 'invalid_url', /credentials/),
  bad('url with spaces', direct({ type: 'referrer', url: 'exa mple.com' }), 'invalid_url', /whitespace/),
  bad('overlong url', direct({ type: 'referrer', url: `https://example.com/${'a'.repeat(LIMITS.urlLength)}` }), 'invalid_url', /longer than 2048/),
  bad('referrer without url or Referer', restEvent('GET', { query: { type: 'referrer' } }), 'missing_field', /url parameter or send a Referer header/),
  tooLarge('oversize POST body (REST)', restEvent('POST', { body: JSON.stringify({ type: 'referrer', url: huge }) }), /over the 8192 byte limit/),
  tooLarge('oversize base64 POST body (HTTP)', httpEvent('POST', { body: base64(HUGE_BODY), isBase64Encoded: true }), /byte limit/),
  tooLarge('very large body', httpEvent('POST', { body: 'y'.repeat(5_000_000) }), /byte limit/),
  tooLarge('oversize direct body', { body: JSON.stringify({ type: 'referrer', url: huge }) }, /byte limit/),
  bad('non-JSON body (REST)', restEvent('POST', { body: 'type=referrer&url=test.com' }), 'malformed_json', /not valid JSON/),
  bad('truncated JSON body (HTTP)', httpEvent('POST', { body: '{"type":"referrer",' }), 'malformed_json', /not valid JSON/),
  bad('empty POST body', restEvent('POST', { body: '' }), 'malformed_json', /body is empty/),
  bad('JSON array body', httpEvent('POST', { body: '[{"type":"referrer"}]' }), 'schema_violation', /JSON object/),
  bad('number where a string belongs', httpEvent('POST', { body: '{"type":"referrer","url":42}' }), 'schema_violation', /url: expected a string/),
  bad(
    'client-set created_at',
    restEvent('POST', { body: '{"type":"referrer","url":"test.com","created_at":1}' }),
    'unexpected_field',
    /created_at is set by the agent/,
  ),
  bad('unknown body field', httpEvent('POST', { body: '{"type":"referrer","ulr":"test.com"}' }), 'unexpected_field', /field other than type, ip and url/),
  bad405(
    'wrong method (REST PUT)',
    restEvent('PUT', { body: '{"type":"referrer","url":"test.com"}' }),
    'method_not_allowed',
    /method is not allowed.*GET.*POST/,
  ),
  bad405('wrong method (HTTP DELETE)', httpEvent('DELETE', { query: { type: 'referrer', url: 'test.com' } }), 'method_not_allowed', /method is not allowed/),
  bad(
    'HTTP API event, no method',
    { version: '2.0', queryStringParameters: { type: 'referrer', url: 'test.com' } },
    'invalid_event',
    /requestContext\.http\.method/,
  ),
  bad('type given twice (REST)', TYPE_TWICE, 'schema_violation', /type is given more than once/),
  bad(
    'url given twice (HTTP)',
    httpEvent('GET', { query: { type: 'referrer', url: 'a.com,b.com' }, rawQueryString: URL_TWICE }),
    'schema_violation',
    /url is given more than once/,
  ),
  bad('non-string query value', { queryStringParameters: { type: 'type-in', ip: 127 } }, 'schema_violation', /queryStringParameters\.ip: expected a string/),
  bad('queryStringParameters not an object', { queryStringParameters: 'type=referrer' }, 'invalid_event', /queryStringParameters must be an object/),
  bad('empty event', {}, 'invalid_event', /neither queryStringParameters nor a body/),
  bad('null event', null, 'invalid_event', /must be a JSON object/),
  bad('string event', '{"queryStringParameters":{}}', 'invalid_event', /must be a JSON object/),
  bad('array event', [direct({ type: 'referrer', url: 'test.com' })], 'invalid_event', /must be a JSON object/),
];

for (const { name, event, status, error, mentions } of CASES) {
  test(`${name}: ${status} ${error}, nothing enqueued`, async (t) => {
    const { handle, sent, logs } = recordingAgent();
    const response = await handle(event);
    t.is(response.statusCode, status, response.body);
    t.is(response.headers['content-type'], 'application/json; charset=utf-8');
    const body = bodyOf(response);
    t.deepEqual(Object.keys(body).sort(), ['details', 'error']);
    t.is(body.error, error);
    t.regex(body.details as string, mentions);
    t.false((body.details as string).includes('\n'), 'details fit on one line');
    t.true((body.details as string).length < 400, 'details stay short whatever the input');
    t.is(sent.length, 0, 'nothing enqueued');
    t.true(
      logs.some((line) => line.msg === 'visit rejected' && line.error === error),
      'the rejection is logged',
    );
  });
}

test('a wrong method is answered with the allowed ones', async (t) => {
  const { handle } = recordingAgent();
  const response = await handle(restEvent('HEAD'));
  t.is(response.statusCode, 405);
  t.is(response.headers.allow, 'GET, POST, OPTIONS');
});

test('a POST to a REST API ignores the query string (the body is the visit)', async (t) => {
  const { handle, sent } = recordingAgent();
  const response = await handle(restEvent('POST', { query: { type: 'referrer', url: 'test.com' }, body: '{"url":"test.com"}' }));
  t.is(response.statusCode, 400);
  t.is(bodyOf(response).error, 'missing_field');
  t.is(sent.length, 0);
});

const anyEvent = fc.oneof(
  fc.anything(),
  fc.record(
    {
      version: fc.constantFrom('1.0', '2.0'),
      httpMethod: fc.constantFrom('GET', 'POST', 'PUT', 'get', ''),
      queryStringParameters: fc.option(
        fc.dictionary(
          fc.constantFrom('type', 'ip', 'url', 'x'),
          fc.oneof(fc.string(), fc.constantFrom('type-in', 'direct', 'referrer', '127.0.0.1', 'test.com', 'javascript:x')),
        ),
      ),
      headers: fc.dictionary(fc.constantFrom('referer', 'Referer', 'content-type'), fc.string()),
      requestContext: fc.option(
        fc.record(
          {
            http: fc.record({ method: fc.constantFrom('GET', 'POST', 'PATCH'), sourceIp: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()) }),
            identity: fc.record({ sourceIp: fc.oneof(fc.ipV4(), fc.string()) }),
          },
          { requiredKeys: [] },
        ),
      ),
      body: fc.option(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
      ),
      isBase64Encoded: fc.boolean(),
    },
    { requiredKeys: [] },
  ),
);

test('no event makes the handler throw; only 202, 400, 403, 405 or 413, and a message exactly when 202', async (t) => {
  const property = fc.asyncProperty(anyEvent, async (event) => {
    const { handle, sent } = recordingAgent();
    const response = await handle(event);
    if (![202, 400, 403, 405, 413].includes(response.statusCode)) return false;
    if (response.statusCode !== 202) return sent.length === 0;
    return sent.length === 1 && parseVisitBody(sent[0]!.body, 'x').ok;
  });
  await t.notThrowsAsync(fc.assert(property, { numRuns: 500 }));
});
