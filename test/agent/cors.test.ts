/**
 * Which browsers may send visits: a site that is not allowed is refused whether or not its
 * browser asks first (a sendBeacon POST and an image GET are sent without a preflight).
 */
import test from 'ava';
import { allowedOrigins } from '../../src/agent/config.ts';
import { decideCors, normaliseOrigin } from '../../src/agent/cors.ts';
import { httpEvent, restEvent, direct } from '../../scripts/traffic/events.ts';
import { bodyOf, recordingAgent } from './support/agent.ts';

const SITE = 'https://www.example.com';
const ALLOWED = new Set([SITE]);
const beacon = (origin: string | undefined, extra: Record<string, string> = {}): unknown =>
  httpEvent('POST', {
    headers: { ...(origin !== undefined ? { origin } : {}), 'content-type': 'text/plain;charset=UTF-8', ...extra },
    body: '{"type":"referrer","url":"https://news.example/"}',
  });
const preflight = (origin: string, method = 'POST') =>
  httpEvent('OPTIONS', { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });

test('an allowed site: its visit passes with the CORS answer headers', (t) => {
  const agent = recordingAgent({ allowedOrigins: ALLOWED });
  return agent.handle(beacon(SITE)).then((response) => {
    t.is(response.statusCode, 202);
    t.is(response.headers['access-control-allow-origin'], SITE);
    t.is(response.headers.vary, 'Origin');
    t.is(agent.sent.length, 1);
  });
});

for (const [name, origin] of [
  ['another site', 'https://evil.example'],
  ['the same host on another scheme', 'http://www.example.com'],
  ['the same host on another port', 'https://www.example.com:8443'],
  ['a sandboxed page (null)', 'null'],
  ['a parent domain', 'https://example.com'],
] as const satisfies ReadonlyArray<readonly [string, string]>) {
  test(`${name}: 403 origin_not_allowed and nothing enqueued`, async (t) => {
    const agent = recordingAgent({ allowedOrigins: ALLOWED });
    const response = await agent.handle(beacon(origin));
    t.is(response.statusCode, 403);
    t.is(bodyOf(response).error, 'origin_not_allowed');
    t.false('access-control-allow-origin' in response.headers);
    t.deepEqual(agent.sent, []);
  });
}

test('an image or link from another site (no Origin, Sec-Fetch-Site: cross-site) is refused', async (t) => {
  const agent = recordingAgent({ allowedOrigins: ALLOWED });
  const image = restEvent('GET', { query: { type: 'referrer', url: 'https://evil.example/' }, headers: { 'Sec-Fetch-Site': 'cross-site' } });
  const response = await agent.handle(image);
  t.is(response.statusCode, 403);
  t.deepEqual(agent.sent, []);
});

test('no browser behind it (no Origin, no Sec-Fetch-Site, or a direct invoke): passes, no CORS headers', async (t) => {
  const agent = recordingAgent({ allowedOrigins: new Set() });
  for (const event of [beacon(undefined), beacon(undefined, { 'sec-fetch-site': 'none' }), direct({ type: 'referrer', url: 'test.com' })]) {
    const response = await agent.handle(event);
    t.is(response.statusCode, 202);
    t.false('access-control-allow-origin' in response.headers);
  }
  t.is(agent.sent.length, 3);
});

test('a preflight from an allowed site: 204 with methods, headers and max-age; nothing enqueued', async (t) => {
  const agent = recordingAgent({ allowedOrigins: ALLOWED });
  const response = await agent.handle(preflight(SITE));
  t.is(response.statusCode, 204);
  t.is(response.body, '');
  t.like(response.headers, {
    'access-control-allow-origin': SITE,
    'access-control-allow-methods': 'POST, GET',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '86400',
  });
  t.deepEqual(agent.sent, []);
});

test('a preflight from another site, for another method, or OPTIONS without Origin: refused', async (t) => {
  const agent = recordingAgent({ allowedOrigins: ALLOWED });
  t.is((await agent.handle(preflight('https://evil.example'))).statusCode, 403);
  t.is((await agent.handle(preflight(SITE, 'DELETE'))).statusCode, 405);
  const bare = await agent.handle(httpEvent('OPTIONS'));
  t.is(bare.statusCode, 405);
  t.is(bare.headers.allow, 'GET, POST, OPTIONS');
});

test('origins are compared as browsers send them: scheme, host and port', (t) => {
  t.is(normaliseOrigin('HTTPS://WWW.Example.com'), SITE);
  t.is(normaliseOrigin('https://www.example.com:443'), SITE);
  t.is(normaliseOrigin('https://www.example.com/'), undefined);
  t.is(normaliseOrigin('https://www.example.com/path'), undefined);
  t.is(normaliseOrigin('file://'), undefined);
  t.is(normaliseOrigin('null'), undefined);
  t.is(decideCors(undefined, ALLOWED).kind, 'pass');
});

test('AGENT_ALLOWED_ORIGINS: comma-separated origins; anything else named in one line', (t) => {
  t.deepEqual([...allowedOrigins({ AGENT_ALLOWED_ORIGINS: ' https://a.example , http://localhost:8080,' })], ['https://a.example', 'http://localhost:8080']);
  t.deepEqual([...allowedOrigins({})], []);
  t.throws(() => allowedOrigins({ AGENT_ALLOWED_ORIGINS: 'https://a.example/path' }), {
    message: /^AGENT_ALLOWED_ORIGINS has "https:\/\/a.example\/path", which is not an origin/,
  });
  t.throws(() => allowedOrigins({ AGENT_ALLOWED_ORIGINS: '*' }), { message: /not an origin/ });
});
