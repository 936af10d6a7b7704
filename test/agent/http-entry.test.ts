/**
 * The agent over HTTP, as `npm start` serves it, on a real SQS endpoint: every bad request is
 * answered 4xx with a reason and enqueues nothing; a beacon's text/plain POST is accepted; the
 * visitor's ip is the connection's, whatever the headers say.
 */
import { request as httpRequest } from 'node:http';
import test from 'ava';
import pino from 'pino';
import { startLocalAgent, type LocalAgent } from '../../src/agent/local-entry.ts';
import { parseVisitBody } from '../../src/contract/visit.ts';
import { startTestQueue, type TestQueue } from './support/sqs.ts';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with exactly these headers (fetch would add its own Origin rules). */
function send(url: string, method: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let sqs: TestQueue;
let agent: LocalAgent;
let url: string;
let origin: string;

test.before(async () => {
  sqs = await startTestQueue();
  agent = await startLocalAgent({
    config: { port: 0, allowedOrigins: undefined },
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    logger: pino({ level: 'silent' }),
  });
  url = `${agent.entry.url}/`;
  origin = `http://localhost:${agent.entry.port}`;
});

test.after.always(async () => {
  await agent?.close();
  await sqs?.stop();
});

const VISIT = '{"type":"referrer","url":"https://news.example/story"}';

test.serial('bad requests: a 4xx with a reason each, and nothing on the queue', async (t) => {
  const cases: Array<[string, Promise<Answer>, number, string]> = [
    ['wrong method', send(url, 'PUT', { 'content-type': 'text/plain' }, VISIT), 405, 'method_not_allowed'],
    [
      'a body over the 8 KiB limit',
      send(url, 'POST', {}, JSON.stringify({ type: 'referrer', url: `https://a.example/${'x'.repeat(9_000)}` })),
      413,
      'body_too_large',
    ],
    ['a body far over any limit (not read)', send(url, 'POST', {}, Buffer.alloc(200_000, 'x')), 413, 'body_too_large'],
    ['malformed body', send(url, 'POST', { 'content-type': 'text/plain' }, '{"type":'), 400, 'malformed_json'],
    ['unknown type', send(url, 'POST', {}, '{"type":"banner","url":"test.com"}'), 400, 'invalid_type'],
    ['a site not allowed', send(url, 'POST', { origin: 'https://evil.example', 'content-type': 'text/plain' }, VISIT), 403, 'origin_not_allowed'],
    ['an image from another site', send(`${url}?type=type-in`, 'GET', { 'sec-fetch-site': 'cross-site' }), 403, 'origin_not_allowed'],
    [
      'a preflight from a site not allowed',
      send(url, 'OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }),
      403,
      'origin_not_allowed',
    ],
  ];
  for (const [name, pending, status, error] of cases) {
    const answer = await pending;
    t.is(answer.status, status, name);
    const body = JSON.parse(answer.body) as { error: string; details: string };
    t.is(body.error, error, name);
    t.true(body.details.length > 10, `${name}: says why`);
  }
  t.deepEqual(await sqs.receiveAll(), []);
});

test.serial('a beacon from an allowed site: 202, CORS headers, one message with the connection ip', async (t) => {
  const preflight = await send(url, 'OPTIONS', { origin, 'access-control-request-method': 'POST' });
  t.is(preflight.status, 204);
  t.is(preflight.headers['access-control-allow-origin'], origin);

  // X-Forwarded-For is the client's to set: never the visitor's ip.
  const headers = { origin, 'content-type': 'text/plain;charset=UTF-8', 'x-forwarded-for': '203.0.113.99' };
  const referrer = await send(url, 'POST', headers, VISIT);
  const typeIn = await send(url, 'POST', headers, '{"type":"type-in","ip":"198.51.100.1"}');
  for (const answer of [referrer, typeIn]) {
    t.is(answer.status, 202);
    t.is(answer.headers['access-control-allow-origin'], origin);
    t.regex(JSON.parse(answer.body).visit_id, /^[0-9a-f-]{36}$/);
  }
  const visits = (await sqs.receiveAll()).map((m) => parseVisitBody(m.Body!, m.MessageId!)).map((p) => (p.ok ? p.visit : p));
  t.is(visits.length, 2);
  t.like(
    visits.find((v) => 'type' in v && v.type === 'referrer'),
    { url: 'https://news.example/story' },
  );
  t.like(
    visits.find((v) => 'type' in v && v.type === 'type-in'),
    { ip: '127.0.0.1' },
  );
});

test.serial('the page script and the demo page are served', async (t) => {
  const script = await send(`${url}traffic.js`, 'GET');
  t.is(script.status, 200);
  t.regex(String(script.headers['content-type']), /javascript/);
  t.regex(script.body, /sendBeacon/);
  const demo = await send(`${url}demo`, 'GET');
  t.is(demo.status, 200);
  t.regex(demo.body, /<script defer src="\/traffic.js"><\/script>/);
});
