/**
 * Every event shape the agent accepts leads to exactly one message, checked by the same parser
 * the processor runs, with the type normalised, the clock's created_at, the visit_id the answer
 * gave, and ip/url from the right source.
 */
import test from 'ava';
import { parseVisitBody, type Visit } from '../../src/contract/visit.ts';
import { bodyOf, NOW, recordingAgent } from './support/agent.ts';
import { direct, httpEvent, restEvent } from '../../scripts/traffic/events.ts';

interface Case {
  readonly name: string;
  readonly event: unknown;
  readonly expected: Omit<Visit, 'visitId' | 'createdAt'>;
}

const typeIn = (ip: string) => ({ type: 'type-in' as const, ip });
const referrer = (url: string) => ({ type: 'referrer' as const, url });
/** A case: its name, the event, and the visit it must lead to. */
const visit = (name: string, event: unknown, expected: Case['expected']): Case => ({ name, event, expected });

const NEWS = 'https://news.example.com/a?b=c';
const SEARCH = 'https://search.example.org/?q=x';
const SHORT = 'https://t.example/abc';
const IPV6 = '2001:db8:85a3::8a2e:370:7334';
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const base64 = (text: string) => Buffer.from(text).toString('base64');

const CASES: readonly Case[] = [
  // Direct invokes, exactly as the recipes send them.
  visit('direct type-in', direct({ type: 'type-in', ip: '127.0.0.1' }), typeIn('127.0.0.1')),
  visit('direct "direct" (alias)', direct({ type: 'direct', ip: '127.0.0.1' }), typeIn('127.0.0.1')),
  visit('direct referrer', direct({ type: 'referrer', url: 'test.com' }), referrer('test.com')),
  visit('direct IPv6', direct({ type: 'type-in', ip: '2001:db8::1' }), typeIn('2001:db8::1')),
  visit('direct invoke with a JSON body', { body: '{"type":"referrer","url":"https://a.example/x"}' }, referrer('https://a.example/x')),
  // API Gateway REST API (1.0).
  visit('REST GET type-in', restEvent('GET', { query: { type: 'type-in' }, sourceIp: '203.0.113.10' }), typeIn('203.0.113.10')),
  visit('REST GET direct', restEvent('GET', { query: { type: 'direct' }, sourceIp: '203.0.113.11' }), typeIn('203.0.113.11')),
  visit('REST GET referrer', restEvent('GET', { query: { type: 'referrer', url: NEWS } }), referrer(NEWS)),
  visit('REST GET referrer from the Referer header', restEvent('GET', { query: { type: 'referrer' }, headers: { Referer: SEARCH } }), referrer(SEARCH)),
  visit('REST POST JSON type-in', restEvent('POST', { body: '{"type":"type-in"}', headers: JSON_HEADERS, sourceIp: '192.0.2.44' }), typeIn('192.0.2.44')),
  visit('REST POST JSON referrer', restEvent('POST', { body: '{"type":"referrer","url":"test.com/landing"}' }), referrer('test.com/landing')),
  visit('REST lower-case method', restEvent('get', { query: { type: 'referrer', url: 'test.com' } }), referrer('test.com')),
  // API Gateway HTTP API (2.0).
  visit('HTTP GET type-in', httpEvent('GET', { query: { type: 'type-in' }, sourceIp: '198.51.100.7' }), typeIn('198.51.100.7')),
  visit('HTTP GET IPv6 source', httpEvent('GET', { query: { type: 'direct' }, sourceIp: IPV6 }), typeIn(IPV6)),
  visit('HTTP GET referrer', httpEvent('GET', { query: { type: 'referrer', url: 'http://blog.example.net/p/1' } }), referrer('http://blog.example.net/p/1')),
  visit('HTTP GET referrer from the referer header', httpEvent('GET', { query: { type: 'referrer' }, headers: { referer: SHORT } }), referrer(SHORT)),
  visit('HTTP POST JSON type-in', httpEvent('POST', { body: '{"type":"direct"}', sourceIp: '198.51.100.8' }), typeIn('198.51.100.8')),
  visit('HTTP POST JSON referrer', httpEvent('POST', { body: '{"type":"referrer","url":"test.com"}' }), referrer('test.com')),
  visit('HTTP base64 body', httpEvent('POST', { body: base64('{"type":"referrer","url":"b64.example"}'), isBase64Encoded: true }), referrer('b64.example')),
];

for (const { name, event, expected } of CASES) {
  test(`${name}: 202 and one message with the visit`, async (t) => {
    const { handle, sent } = recordingAgent();
    const response = await handle(event);
    t.is(response.statusCode, 202, response.body);
    t.is(response.headers['content-type'], 'application/json; charset=utf-8');
    const visitId = bodyOf(response).visit_id as string;
    t.is(typeof visitId, 'string');
    t.is(sent.length, 1);
    const message = sent[0]!;
    t.is(message.visitId, visitId);
    t.is(message.visitType, expected.type, 'the visit_type attribute is the canonical type');
    const parsed = parseVisitBody(message.body, 'unused-fallback');
    t.true(parsed.ok, message.body);
    if (parsed.ok) t.deepEqual(parsed.visit, { visitId, createdAt: NOW, ...expected });
    t.deepEqual(Object.keys(JSON.parse(message.body)).sort(), ['created_at', 'type', 'visit_id', expected.type === 'type-in' ? 'ip' : 'url'].sort());
  });
}

test('a spoofed ip is ignored when the request context has the source IP (REST query, HTTP query, POST body)', async (t) => {
  const events = [
    restEvent('GET', { query: { type: 'type-in', ip: '6.6.6.6' }, sourceIp: '203.0.113.9' }),
    httpEvent('GET', { query: { type: 'direct', ip: '6.6.6.6' }, sourceIp: '203.0.113.9' }),
    httpEvent('POST', { body: '{"type":"type-in","ip":"6.6.6.6"}', sourceIp: '203.0.113.9' }),
    restEvent('POST', { body: '{"type":"type-in","ip":"not even an ip"}', sourceIp: '203.0.113.9' }),
  ];
  for (const event of events) {
    const { handle, sent } = recordingAgent();
    const response = await handle(event);
    t.is(response.statusCode, 202, response.body);
    t.is(JSON.parse(sent[0]!.body).ip, '203.0.113.9');
  }
});

test('the url parameter wins over the Referer header', async (t) => {
  const { handle, sent } = recordingAgent();
  await handle(restEvent('GET', { query: { type: 'referrer', url: 'param.example' }, headers: { referer: 'https://header.example/' } }));
  t.is(JSON.parse(sent[0]!.body).url, 'param.example');
});

test('extra query parameters (cache busters, campaign tags) are ignored', async (t) => {
  const { handle, sent } = recordingAgent();
  const response = await handle(httpEvent('GET', { query: { type: 'referrer', url: 'test.com', utm_source: 'mail', _: '123' } }));
  t.is(response.statusCode, 202);
  t.deepEqual(Object.keys(JSON.parse(sent[0]!.body)).sort(), ['created_at', 'type', 'url', 'visit_id']);
});

test('visit_id is the Lambda request id when there is one, a fresh UUID otherwise', async (t) => {
  const { handle, sent } = recordingAgent();
  const requestId = '8D3B1A52-5B1F-4B6E-9A5E-0C7B4A0E9F11';
  const first = await handle(direct({ type: 'referrer', url: 'test.com' }), { awsRequestId: requestId });
  t.is(bodyOf(first).visit_id, requestId.toLowerCase(), 'a retried async invoke keeps its visit_id');
  const second = await handle(direct({ type: 'referrer', url: 'test.com' }));
  const third = await handle(direct({ type: 'referrer', url: 'test.com' }), { awsRequestId: 'not-a-uuid' });
  const ids = [second, third].map((r) => bodyOf(r).visit_id as string);
  for (const id of ids) t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.not(ids[0], ids[1]);
  t.deepEqual(
    sent.map((m) => m.visitId),
    [requestId.toLowerCase(), ...ids],
  );
});
