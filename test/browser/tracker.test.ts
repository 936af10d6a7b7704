/**
 * A real browser on `npm start`'s embedded default: a page with the tracker writes the right
 * row in the right table; a site that is not allowed writes nothing; the page never sees an
 * error from the tracker. Rows are read from the processor's own `write` lines.
 */
import { createServer, type Server } from 'node:http';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, npmStart, rowsWritten, type RunningStart } from './support.ts';

const TYPE_IN = 'traffic_type_in';
const REFERRER = 'traffic_referrer';

let start: RunningStart;
let browser: Browser;
let agentUrl: string;
let port: number;

test.before(async () => {
  start = npmStart({});
  const ready = await start.waitForLine((l) => typeof l.agentUrl === 'string', 'the agent line');
  agentUrl = String(ready.agentUrl).replace(/\/$/, '');
  port = Number(new URL(agentUrl).port);
  await start.waitForLine((l) => l.msg === 'processor starting', 'the processor start');
  browser = await launchBrowser();
});

test.after.always(async () => {
  await browser?.close();
  await start?.stop();
});

/** A page that fails the test on any error the page itself sees. */
async function newPage(t: { fail: (message: string) => void }, init?: () => void): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => t.fail(`page error: ${error.message}`));
  if (init) await page.addInitScript(init);
  return page;
}

const referrerRow = (url: string) =>
  start.waitForLine(
    (l) => l.msg === 'write' && l.table === REFERRER && (l.rows as Array<{ url?: string }>).some((r) => r.url === url),
    `a referrer row for ${url}`,
  );

test.serial('a page opened directly writes one type-in row with the visitor ip', async (t) => {
  const before = rowsWritten(start.lines, TYPE_IN).length;
  const page = await newPage(t);
  await page.goto(`${agentUrl}/demo`);
  const line = await start.waitForLine((l) => l.msg === 'write' && l.table === TYPE_IN && rowsWritten(start.lines, TYPE_IN).length > before, 'a type-in row');
  t.like((line.rows as unknown[])[0], { ip: '127.0.0.1' });
  await page.close();
});

test.serial('a page opened from another site writes one referrer row with the referring url', async (t) => {
  const page = await newPage(t);
  await page.goto(`${agentUrl}/demo`, { referer: 'https://news.example/story-1' });
  const line = await referrerRow('https://news.example/story-1');
  t.is((line.rows as unknown[]).length, 1);
  await page.close();
});

test.serial("following the demo page's link to the second local origin writes a referrer row", async (t) => {
  const page = await newPage(t);
  await page.goto(`http://127.0.0.1:${port}/demo`);
  await Promise.all([page.waitForURL(`http://localhost:${port}/demo`), page.click('#other')]);
  t.is(await page.textContent('#kind'), 'referrer');
  // The browser sends the referring origin only (strict-origin-when-cross-origin).
  await referrerRow(`http://127.0.0.1:${port}/`);
  t.pass();
  await page.close();
});

test.serial('sendBeacon missing: the fetch keepalive fallback sends the visit', async (t) => {
  const page = await newPage(t, () => {
    Object.defineProperty(Navigator.prototype, 'sendBeacon', { value: undefined });
  });
  await page.goto(`${agentUrl}/demo`, { referer: 'https://fallback.example/' });
  await referrerRow('https://fallback.example/');
  t.pass();
  await page.close();
});

test.serial('Global Privacy Control opts the visitor out; data-gpc="ignore" counts them', async (t) => {
  const countBeacons = () => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });
    const send = Navigator.prototype.sendBeacon;
    (window as unknown as { beacons: number }).beacons = 0;
    Navigator.prototype.sendBeacon = function (this: Navigator, ...args: Parameters<Navigator['sendBeacon']>) {
      (window as unknown as { beacons: number }).beacons++;
      return send.apply(this, args);
    };
  };
  const optedOut = await newPage(t, countBeacons);
  await optedOut.goto(`${agentUrl}/demo`, { referer: 'https://gpc.example/' });
  t.is(await optedOut.evaluate(() => (window as unknown as { beacons: number }).beacons), 0);

  // The same site choosing to count them anyway: a page served at the allowed origin.
  const counted = await newPage(t, countBeacons);
  await counted.route(`${agentUrl}/gpc-ignored`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><script defer data-gpc="ignore" src="/traffic.js"></script>' }),
  );
  await counted.goto(`${agentUrl}/gpc-ignored`, { referer: 'https://gpc-ignored.example/' });
  t.is(await counted.evaluate(() => (window as unknown as { beacons: number }).beacons), 1);
  await referrerRow('https://gpc-ignored.example/');
  t.deepEqual(
    rowsWritten(start.lines, REFERRER).filter((r) => r.url === 'https://gpc.example/'),
    [],
  );
  await Promise.all([optedOut.close(), counted.close()]);
});

test.serial('a failing browser API never reaches the page as an error', async (t) => {
  const page = await newPage(t, () => {
    Navigator.prototype.sendBeacon = () => {
      throw new Error('beacons disabled');
    };
  });
  await page.goto(`${agentUrl}/demo`);
  t.is(await page.textContent('h1'), 'traffic demo');
  await page.close();
});

test.serial('a page on a site that is not allowed writes nothing', async (t) => {
  const site: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><script defer src="${agentUrl}/traffic.js"></script><p>another site</p>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  t.teardown(() => site.close());
  const other = `http://127.0.0.1:${(site.address() as { port: number }).port}`;

  const page = await newPage(t);
  await page.goto(`${other}/`, { referer: 'https://blocked.example/' });
  const refused = await start.waitForLine((l) => l.msg === 'visit rejected' && l.error === 'origin_not_allowed', 'the refusal');
  t.is(refused.status, 403);
  // A visit sent after it is written; the refused one never is.
  const allowed = await newPage(t);
  await allowed.goto(`${agentUrl}/demo`, { referer: 'https://after-blocked.example/' });
  await referrerRow('https://after-blocked.example/');
  t.deepEqual(
    rowsWritten(start.lines, REFERRER).filter((r) => r.url === 'https://blocked.example/'),
    [],
  );
  await Promise.all([page.close(), allowed.close()]);
});

test.serial('one row per page load: no visit was sent twice', async (t) => {
  const urls = rowsWritten(start.lines, REFERRER).map((r) => r.url);
  t.is(new Set(urls).size, urls.length, `referrer rows: ${urls.join(', ')}`);
});
