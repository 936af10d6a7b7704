/**
 * Every bad input gets a 400 or 413 naming what is wrong, and nothing is enqueued.
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
  readonly status: 400 | 413;
  readonly error: string;
  /** A fragment the details must contain, so the message names the problem. */
  readonly mentions: RegExp;
}

const huge = `https://example.com/${'x'.repeat(LIMITS.bodyBytes)}`;

const CASES: readonly Case[] = [
  { name: 'missing type (direct)', event: direct({ ip: '127.0.0.1' }), status: 400, error: 'missing_field', mentions: /type is missing.*type-in, referrer, direct/ },
  { name: 'missing type (REST GET)', event: restEvent('GET', { query: { url: 'test.com' } }), status: 400, error: 'missing_field', mentions: /type is missing/ },
  { name: 'missing type (HTTP POST)', event: httpEvent('POST', { body: '{"url":"test.com"}' }), status: 400, error: 'missing_field', mentions: /type is missing/ },
  { name: 'empty type', event: direct({ type: '', url: 'test.com' }), status: 400, error: 'missing_field', mentions: /type is missing/ },
  { name: 'unknown type', event: direct({ type: 'banner', url: 'test.com' }), status: 400, error: 'invalid_type', mentions: /type is not a known visit type \(type-in, referrer, direct\)/ },
  { name: 'type in the wrong case', event: direct({ type: 'Type-In', ip: '127.0.0.1' }), status: 400, error: 'invalid_type', mentions: /not a known visit type/ },
  { name: 'overlong type', event: direct({ type: 't'.repeat(200) }), status: 400, error: 'invalid_type', mentions: /type is longer than/ },
  { name: 'bad IPv4', event: direct({ type: 'type-in', ip: '999.1.2.3' }), status: 400, error: 'invalid_ip', mentions: /ip is not a valid IPv4 or IPv6 address \(ip taken from the ip parameter\)/ },
  { name: 'ip that is a host name', event: direct({ type: 'direct', ip: 'localhost' }), status: 400, error: 'invalid_ip', mentions: /ip is not a valid/ },
  { name: 'missing ip on a direct invoke', event: direct({ type: 'type-in' }), status: 400, error: 'missing_field', mentions: /need an ip.*queryStringParameters/ },
  {
    name: 'request context without a source IP',
    event: { ...(restEvent('GET', { query: { type: 'type-in', ip: '127.0.0.1' } }) as object), requestContext: { stage: 'prod' } },
    status: 400,
    error: 'missing_field',
    mentions: /request context has no source IP/,
  },
  {
    name: 'console test source IP',
    event: restEvent('GET', { query: { type: 'type-in' }, sourceIp: 'test-invoke-source-ip' }),
    status: 400,
    error: 'invalid_ip',
    mentions: /request context/,
  },
  { name: 'javascript: url', event: direct({ type: 'referrer', url: 'javascript:alert(1)' }), status: 400, error: 'invalid_url', mentions: /scheme other than http:\/\/ or https:\/\// },
  { name: 'JavaScript: url in a header', event: restEvent('GET', { query: { type: 'referrer' }, headers: { Referer: 'JavaScript:alert(1)' } }), status: 400, error: 'invalid_url', mentions: /Referer header/ },
  { name: 'data: url', event: httpEvent('GET', { query: { type: 'referrer', url: 'data:text/html,<script>alert(1)</script>' } }), status: 400, error: 'invalid_url', mentions: /scheme other than http/ },
  { name: 'ftp url', event: direct({ type: 'referrer', url: 'ftp://files.example.com/' }), status: 400, error: 'invalid_url', mentions: /scheme other than http/ },
  { name: 'url with credentials', event: direct({ type: 'referrer', url: 'https://user:pw@example.com/' }), status: 400, error: 'invalid_url', mentions: /credentials/ },
  { name: 'url with spaces', event: direct({ type: 'referrer', url: 'exa mple.com' }), status: 400, error: 'invalid_url', mentions: /whitespace/ },
  { name: 'overlong url', event: direct({ type: 'referrer', url: `https://example.com/${'a'.repeat(LIMITS.urlLength)}` }), status: 400, error: 'invalid_url', mentions: /longer than 2048/ },
  { name: 'referrer without url or Referer', event: restEvent('GET', { query: { type: 'referrer' } }), status: 400, error: 'missing_field', mentions: /url parameter or send a Referer header/ },
  { name: 'oversize POST body (REST)', event: restEvent('POST', { body: JSON.stringify({ type: 'referrer', url: huge }) }), status: 413, error: 'body_too_large', mentions: /over the 8192 byte limit/ },
  {
    name: 'oversize base64 POST body (HTTP)',
    event: httpEvent('POST', { body: Buffer.from(JSON.stringify({ type: 'referrer', url: huge })).toString('base64'), isBase64Encoded: true }),
    status: 413,
    error: 'body_too_large',
    mentions: /byte limit/,
  },
  { name: 'very large body', event: httpEvent('POST', { body: 'y'.repeat(5_000_000) }), status: 413, error: 'body_too_large', mentions: /byte limit/ },
  { name: 'oversize direct body', event: { body: JSON.stringify({ type: 'referrer', url: huge }) }, status: 413, error: 'body_too_large', mentions: /byte limit/ },
  { name: 'non-JSON body (REST)', event: restEvent('POST', { body: 'type=referrer&url=test.com' }), status: 400, error: 'malformed_json', mentions: /not valid JSON/ },
  { name: 'truncated JSON body (HTTP)', event: httpEvent('POST', { body: '{"type":"referrer",' }), status: 400, error: 'malformed_json', mentions: /not valid JSON/ },
  { name: 'empty POST body', event: restEvent('POST', { body: '' }), status: 400, error: 'malformed_json', mentions: /body is empty/ },
  { name: 'JSON array body', event: httpEvent('POST', { body: '[{"type":"referrer"}]' }), status: 400, error: 'schema_violation', mentions: /JSON object/ },
  { name: 'number where a string belongs', event: httpEvent('POST', { body: '{"type":"referrer","url":42}' }), status: 400, error: 'schema_violation', mentions: /url: expected a string/ },
  { name: 'client-set created_at', event: restEvent('POST', { body: '{"type":"referrer","url":"test.com","created_at":1}' }), status: 400, error: 'unexpected_field', mentions: /created_at is set by the agent/ },
  { name: 'unknown body field', event: httpEvent('POST', { body: '{"type":"referrer","ulr":"test.com"}' }), status: 400, error: 'unexpected_field', mentions: /field other than type, ip and url/ },
  { name: 'wrong method (REST PUT)', event: restEvent('PUT', { body: '{"type":"referrer","url":"test.com"}' }), status: 400, error: 'method_not_allowed', mentions: /method is not allowed.*GET.*POST/ },
  { name: 'wrong method (HTTP DELETE)', event: httpEvent('DELETE', { query: { type: 'referrer', url: 'test.com' } }), status: 400, error: 'method_not_allowed', mentions: /method is not allowed/ },
  { name: 'HTTP API event without a method', event: { version: '2.0', queryStringParameters: { type: 'referrer', url: 'test.com' } }, status: 400, error: 'invalid_event', mentions: /requestContext\.http\.method/ },
  {
    name: 'type given twice (REST)',
    event: { ...(restEvent('GET', { query: { type: 'referrer', url: 'test.com' } }) as object), multiValueQueryStringParameters: { type: ['type-in', 'referrer'], url: ['test.com'] } },
    status: 400,
    error: 'schema_violation',
    mentions: /type is given more than once/,
  },
  {
    name: 'url given twice (HTTP)',
    event: httpEvent('GET', { query: { type: 'referrer', url: 'a.com,b.com' }, rawQueryString: 'type=referrer&url=a.com&url=b.com' }),
    status: 400,
    error: 'schema_violation',
    mentions: /url is given more than once/,
  },
  { name: 'non-string query value', event: { queryStringParameters: { type: 'type-in', ip: 127 } }, status: 400, error: 'schema_violation', mentions: /queryStringParameters\.ip: expected a string/ },
  { name: 'queryStringParameters not an object', event: { queryStringParameters: 'type=referrer' }, status: 400, error: 'invalid_event', mentions: /queryStringParameters must be an object/ },
  { name: 'empty event', event: {}, status: 400, error: 'invalid_event', mentions: /neither queryStringParameters nor a body/ },
  { name: 'null event', event: null, status: 400, error: 'invalid_event', mentions: /must be a JSON object/ },
  { name: 'string event', event: '{"queryStringParameters":{}}', status: 400, error: 'invalid_event', mentions: /must be a JSON object/ },
  { name: 'array event', event: [direct({ type: 'referrer', url: 'test.com' })], status: 400, error: 'invalid_event', mentions: /must be a JSON object/ },
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
    t.true(logs.some((line) => line.msg === 'visit rejected' && line.error === error), 'the rejection is logged');
  });
}

test('a wrong method is answered with the allowed ones', async (t) => {
  const { handle } = recordingAgent();
  const response = await handle(restEvent('HEAD'));
  t.is(response.statusCode, 400);
  t.is(response.headers.allow, 'GET, POST');
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
      queryStringParameters: fc.option(fc.dictionary(fc.constantFrom('type', 'ip', 'url', 'x'), fc.oneof(fc.string(), fc.constantFrom('type-in', 'direct', 'referrer', '127.0.0.1', 'test.com', 'javascript:x')))),
      headers: fc.dictionary(fc.constantFrom('referer', 'Referer', 'content-type'), fc.string()),
      requestContext: fc.option(
        fc.record({ http: fc.record({ method: fc.constantFrom('GET', 'POST', 'PATCH'), sourceIp: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()) }), identity: fc.record({ sourceIp: fc.oneof(fc.ipV4(), fc.string()) }) }, { requiredKeys: [] }),
      ),
      body: fc.option(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)))),
      isBase64Encoded: fc.boolean(),
    },
    { requiredKeys: [] },
  ),
);

test('no event makes the handler throw; only 202, 400 or 413, and a message exactly when 202', async (t) => {
  const property = fc.asyncProperty(anyEvent, async (event) => {
    const { handle, sent } = recordingAgent();
    const response = await handle(event);
    if (![202, 400, 413].includes(response.statusCode)) return false;
    if (response.statusCode !== 202) return sent.length === 0;
    return sent.length === 1 && parseVisitBody(sent[0]!.body, 'x').ok;
  });
  await t.notThrowsAsync(fc.assert(property, { numRuns: 500 }));
});
