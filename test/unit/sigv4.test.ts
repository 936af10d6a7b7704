/**
 * The per-message calls' SigV4 signer signs as the SDK's does: the same headers added, the same
 * signature, over generated requests (bodies, paths, header values), credentials (with and
 * without a session token), regions and dates.
 */
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { ReferenceSha256 } from '../support/reference-sha256.ts';
import test from 'ava';
import fc from 'fast-check';
import { signPost } from '../../src/processor/sigv4.ts';

const credentialsArb = fc.record(
  {
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
    secretAccessKey: fc.string({ minLength: 1, maxLength: 40 }),
    sessionToken: fc.string({ minLength: 1, maxLength: 60 }),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);
/** Whitespace SigV4 folds or keeps, at the ends and inside a header value. */
const spacy = fc.string({ maxLength: 12, unit: fc.constantFrom(' ', '\t', '\r', '\n', '\v', '\f', '\u00a0', '\u2028', '\ufeff', 'a', 'b', '-') });
const requestArb = fc.record({
  // As the calls get them: an endpoint URL's path, ending in a slash.
  path: fc
    .constantFrom('', '/', '/prefix', '/a b/c', '/x/../y/', '/./q', '/é/', '/100%/', '//double//', '/~user/(x)*!')
    .map((p) => new URL(`https://sqs.example.com${p}`).pathname)
    .map((p) => (p.endsWith('/') ? p : `${p}/`)),
  body: fc.string({ maxLength: 300, unit: 'binary' }),
  target: fc.constantFrom('AmazonSQS.ReceiveMessage', 'AmazonSQS.DeleteMessageBatch', 'AmazonSQS.SendMessageBatch'),
  host: fc.constantFrom('sqs.eu-west-1.amazonaws.com', '127.0.0.1:4566', '[::1]:9324'),
  userAgent: fc.string({ maxLength: 40 }),
  spaced: spacy,
});

test('the same headers and signature as the SDK signer, for any request, credentials, region and date', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      credentialsArb,
      requestArb,
      fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
      fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
      async (credentials, request, region, date) => {
        const headers = {
          'content-type': 'application/x-amz-json-1.0',
          'x-test-signed': request.spaced,
          'x-amz-target': request.target,
          'x-amzn-query-mode': 'true',
          'content-length': String(Buffer.byteLength(request.body)),
          'user-agent': request.userAgent,
          host: request.host,
        };
        const mine = signPost({ path: request.path, headers, body: request.body }, credentials, region, 'sqs', date);
        const sdk = await new SignatureV4({ credentials, region, service: 'sqs', sha256: ReferenceSha256 as never }).sign(
          new HttpRequest({ method: 'POST', protocol: 'https:', hostname: request.host, path: request.path, headers: { ...headers }, body: request.body }),
          { signingDate: date },
        );
        const added = ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'];
        const expected = Object.fromEntries(added.filter((name) => sdk.headers[name] !== undefined).map((name) => [name, sdk.headers[name]]));
        t.deepEqual(mine, expected);
      },
    ),
    { numRuns: 500 },
  );
});

test('signing one second after another, across midnight and credentials that change, as the SDK signer at each', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 1_500 }), { minLength: 2, maxLength: 6 }),
      fc.array(credentialsArb, { minLength: 1, maxLength: 2 }),
      async (steps, credentialsList) => {
        let at = Date.parse('2026-11-26T23:59:58.200Z');
        for (const [i, step] of steps.entries()) {
          at += step;
          const date = new Date(at);
          const credentials = credentialsList[i % credentialsList.length]!;
          const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ReceiveMessage', host: 'sqs.eu-west-1.amazonaws.com' };
          const mine = signPost({ path: '/', headers, body: '{}' }, credentials, 'eu-west-1', 'sqs', date);
          const sdk = await new SignatureV4({ credentials, region: 'eu-west-1', service: 'sqs', sha256: ReferenceSha256 as never }).sign(
            new HttpRequest({ method: 'POST', protocol: 'https:', hostname: headers.host, path: '/', headers: { ...headers }, body: '{}' }),
            { signingDate: date },
          );
          t.is(mine.authorization, sdk.headers.authorization);
          t.is(mine['x-amz-date'], sdk.headers['x-amz-date']);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('credentials that are not credentials are refused here, as the SDK signer refuses them', (t) => {
  const post = { path: '/', headers: { host: 'h' }, body: '' };
  t.throws(() => signPost(post, { accessKeyId: 'AKID' } as never, 'us-east-1', 'sqs', new Date()), { message: 'Resolved credential object is not valid' });
  t.throws(() => signPost(post, undefined as never, 'us-east-1', 'sqs', new Date()), { message: 'Resolved credential object is not valid' });
});

test('a signature changes with every part it covers', (t) => {
  const post: { path: string; headers: Record<string, string>; body: string } = {
    path: '/',
    headers: { host: 'h', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ReceiveMessage' },
    body: '{}',
  };
  const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
  const date = new Date('2026-11-26T08:00:00Z');
  const signature = (p = post, c: typeof credentials = credentials, region = 'us-east-1', d = date) => signPost(p, c, region, 'sqs', d).authorization;
  const base = signature();
  t.not(signature({ ...post, body: '{ }' }), base);
  t.not(signature({ ...post, headers: { ...post.headers, 'x-amz-target': 'AmazonSQS.DeleteMessageBatch' } }), base);
  t.not(signature(post, { ...credentials, secretAccessKey: 'other' }), base);
  t.not(signature(post, credentials, 'eu-west-1'), base);
  t.not(signature(post, credentials, 'us-east-1', new Date('2026-11-26T08:00:01Z')), base);
  t.is(signature({ ...post, headers: { ...post.headers, 'user-agent': 'anything' } }), base, 'the user agent is not signed');
});
