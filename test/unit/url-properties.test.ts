/**
 * Property-based: the url rule is an allow-list. Scheme spellings are generated the ways an
 * attacker disguises them (case, percent-encoding, whitespace and invisible characters, look-alike
 * colons, digits after the colon as in `javascript:1/alert(1)`), and no url that a browser would
 * read with a scheme other than http: or https: is ever accepted.
 */
import test from 'ava';
import fc from 'fast-check';
import { checkUrl } from '../../src/contract/url.ts';
import { parseVisitBody } from '../../src/contract/visit.ts';

const RUNS = 10_000;

const DANGEROUS = [
  'javascript',
  'vbscript',
  'livescript',
  'data',
  'file',
  'ftp',
  'blob',
  'about',
  'mailto',
  'ws',
  'wss',
  'jar',
  'intent',
  'view-source',
  'chrome',
  'filesystem',
];
/** Any other scheme a parser would accept: a letter, then letters, digits, + . - (http and https excluded). */
const randomScheme = fc
  .tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789+.-'), maxLength: 12 }))
  .map(([first, rest]) => first + rest)
  .filter((scheme) => scheme !== 'http' && scheme !== 'https');

/** Characters browsers strip or skip, or that hide in plain sight. */
const HIDDEN = ['\t', '\n', '\r', ' ', '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u200b', '\u200e', '\u2028', '\ufeff', '\u180e'];
const COLONS = [':', ':', ':', '%3A', '%3a', '\uff1a', '&colon;', '&#58;', '\u0589', '\ua789'];

const hex = (code: number) => code.toString(16).padStart(2, '0');

/** One character of a scheme, spelled as it is, in the other case, percent-encoded, or full-width. */
const spellChar = (char: string) =>
  fc.constantFrom(
    char,
    char.toUpperCase(),
    `%${hex(char.charCodeAt(0))}`,
    `%${hex(char.charCodeAt(0)).toUpperCase()}`,
    /[a-z]/.test(char) ? String.fromCharCode(char.charCodeAt(0) - 0x61 + 0xff41) : char,
  );

/** A scheme spelled character by character, each maybe followed by a hidden character. */
function spelled(scheme: string) {
  return fc
    .tuple(...[...scheme].map((char) => fc.tuple(spellChar(char), fc.option(fc.constantFrom(...HIDDEN), { freq: 4 }))))
    .map((parts) => parts.map(([char, hidden]) => char + (hidden ?? '')).join(''));
}

const payload = fc.oneof(
  fc.constantFrom('alert(1)', 'alert(document.cookie)', '//evil.example/x', 'text/html,<script>alert(1)</script>', '/etc/passwd', 'x@y.example', ''),
  fc.webPath(),
  fc.string({ maxLength: 20 }),
);
/** Digits after the colon make `scheme:1` look like `host:port`. */
const afterColon = fc
  .tuple(fc.option(fc.integer({ min: 0, max: 99_999 }).map(String), { freq: 2 }), fc.constantFrom('', '/', '//'), payload)
  .map(([digits, slashes, rest]) => `${digits ?? ''}${slashes}${rest}`);

/**
 * A non-http(s) url in its plain form, `scheme://host/path`, the scheme in any case: what a
 * scheme allow-list alone stops (every other check passes it, as it would pass `http://host/path`).
 */
const plainScheme = (scheme: fc.Arbitrary<string>) =>
  fc
    .tuple(scheme, fc.boolean(), fc.domain(), fc.option(fc.integer({ min: 1, max: 65_535 })), fc.webPath())
    .map(([name, upper, host, port, path]) => `${upper ? name.toUpperCase() : name}://${host}${port === null ? '' : `:${port}`}${path}`);

/** A non-http(s) url, plain or disguised. */
const disguisedScheme = fc.oneof(
  plainScheme(fc.oneof(fc.constantFrom(...DANGEROUS), randomScheme)),
  fc
    .tuple(
      fc.option(fc.constantFrom(...HIDDEN), { freq: 3 }),
      fc.oneof(fc.constantFrom(...DANGEROUS), randomScheme).chain(spelled),
      fc.constantFrom(...COLONS),
      afterColon,
    )
    .map(([lead, scheme, colon, rest]) => `${lead ?? ''}${scheme}${colon}${rest}`),
);

/** http and https spelled the same ways, plus hosts, bare hosts with ports and random strings. */
const anyUrl = fc.oneof(
  disguisedScheme,
  fc
    .tuple(
      fc.constantFrom('http', 'https').chain(spelled),
      fc.constantFrom(...COLONS),
      fc.constantFrom('', '/', '//', '///', '\\\\'),
      fc.oneof(fc.domain(), fc.constant('javascript:1')),
      afterColon,
    )
    .map(([scheme, colon, slashes, host, rest]) => `${scheme}${colon}${slashes}${host}/${rest}`),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc
    .tuple(fc.domain(), fc.option(fc.integer({ min: 0, max: 70_000 })), fc.webPath())
    .map(([host, port, path]) => `${host}${port === null ? '' : `:${port}`}${path}`),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** How a browser would read an accepted value, absolute or percent-decoded: only http: or https: may come out. */
function readAsHttp(url: string): boolean {
  const readings = [url];
  try {
    readings.push(decodeURIComponent(url));
  } catch {
    // not decodable: a dashboard cannot decode it either
  }
  return readings.every((reading) => !URL.canParse(reading) || ['http:', 'https:'].includes(new URL(reading).protocol));
}

test(`${RUNS.toLocaleString('en')} disguised non-http(s) urls: every one is rejected`, (t) => {
  let checked = 0;
  fc.assert(
    fc.property(disguisedScheme, (url) => {
      checked += 1;
      return checkUrl(url) !== undefined;
    }),
    { numRuns: RUNS, seed: 20261125 },
  );
  t.is(checked, RUNS);
});

test(`${RUNS.toLocaleString('en')} urls of every kind: whatever is accepted reads as http(s) with a host, through the same contract the processor runs`, (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(anyUrl, (url) => {
      const verdict = checkUrl(url);
      const body = parseVisitBody(JSON.stringify({ type: 'referrer', created_at: 1_764_000_000_000, url }), 'm');
      if (body.ok !== (verdict === undefined) && url.length <= 2048) return false;
      if (verdict !== undefined) return true;
      accepted += 1;
      const absolute = URL.canParse(url) ? new URL(url) : new URL(`http://${url}`);
      return readAsHttp(url) && absolute.hostname !== '' && ['http:', 'https:'].includes(absolute.protocol);
    }),
    { numRuns: RUNS, seed: 20261126 },
  );
  t.true(accepted > RUNS / 10, `real urls and bare hosts are still accepted (${accepted})`);
});

test('every listed non-http(s) scheme in plain scheme://host form is rejected, and so is any other scheme', (t) => {
  for (const scheme of DANGEROUS) {
    for (const url of [`${scheme}://example.com`, `${scheme.toUpperCase()}://example.com/x`, `${scheme}://example.com:8080/`]) {
      t.not(checkUrl(url), undefined, url);
    }
  }
  let checked = 0;
  fc.assert(
    fc.property(plainScheme(randomScheme), (url) => {
      checked += 1;
      return checkUrl(url) !== undefined;
    }),
    { numRuns: RUNS, seed: 20261127 },
  );
  t.is(checked, RUNS);
  // The same form with http(s) passes: what rejects the others is the scheme, not the shape.
  fc.assert(
    fc.property(plainScheme(fc.constantFrom('http', 'https')), (url) => checkUrl(url) === undefined),
    { numRuns: 1_000, seed: 20261128 },
  );
});

test('the cases that were accepted before: script urls with a digit after the colon', (t) => {
  for (const url of ['javascript:1/alert(document.cookie)', 'JaVaScRiPt:1/alert(1)', 'data:1/x', 'vbscript:12345/x', 'test.com:8080/path']) {
    t.not(checkUrl(url), undefined, url);
  }
  const stillValid = [
    'test.com',
    'www.example.org/path',
    'http://test.com:8080/x',
    'HTTPS://Example.COM/a?b=c#d',
    'http://[2001:db8::1]/',
    '192.0.2.1/x',
    'https://www.google.com/search?q=traffic%20analytics&x=javascript:1',
    'http://bücher.example/straße',
  ];
  for (const url of stillValid) {
    t.is(checkUrl(url), undefined, url);
  }
});
