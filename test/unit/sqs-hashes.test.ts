/**
 * The SQS client's hashes give the digests Node's crypto gives, whatever the SDK feeds them,
 * and a SigV4 signature made with them is the one made with hashes built the SDK's way.
 */
import { createHash, createHmac } from 'node:crypto';
import { clearCredentialCache, SignatureV4 } from '@smithy/signature-v4';
import test from 'ava';
import { Md5, Sha256 } from '../../src/processor/sqs-hashes.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

type Data = string | ArrayBuffer | ArrayBufferView;
const buffer = (data: Exclude<Data, string>) => (ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));

/** Hashes built as the SDK's defaults build them: a Node Hash or Hmac per digest, HMAC only with a secret that is not empty. */
class ReferenceSha256 {
  readonly #hash;
  constructor(secret?: Data) {
    this.#hash = secret ? createHmac('sha256', typeof secret === 'string' ? secret : buffer(secret)) : createHash('sha256');
  }
  update(data: Data) {
    this.#hash.update(typeof data === 'string' ? data : buffer(data));
  }
  async digest() {
    return new Uint8Array(this.#hash.digest());
  }
}

test('SHA-256 of strings, bytes, ArrayBuffers and views, in one piece or several', async (t) => {
  const text = 'visit é 🚦 '.repeat(50);
  const expected = createHash('sha256').update(text).digest('hex');
  const padded = new Uint8Array([1, 2, 3, ...bytes(text), 4]);
  const inputs: Array<string | ArrayBuffer | ArrayBufferView> = [
    text,
    bytes(text),
    bytes(text).buffer,
    new DataView(bytes(text).buffer),
    new DataView(padded.buffer, 3, padded.length - 4),
    padded.subarray(3, -1),
  ];
  for (const input of inputs) {
    const sha = new Sha256();
    sha.update(input);
    t.is(hex(await sha.digest()), expected, `input ${Object.prototype.toString.call(input)}`);
  }
  const pieces = new Sha256();
  pieces.update(text.slice(0, 7));
  pieces.update(bytes(text.slice(7, 100)));
  pieces.update(text.slice(100));
  t.is(hex(await pieces.digest()), expected);
  t.is(hex(await pieces.digest()), expected, 'a second digest gives the same');
  pieces.reset();
  t.is(hex(await pieces.digest()), createHash('sha256').digest('hex'), 'reset empties it');
});

test('HMAC-SHA-256 with a string key, with key bytes, and with other bytes in the same key object', async (t) => {
  const data = 'AWS4-HMAC-SHA256\n20261125T000000Z\nscope\nhash';
  const hmac = async (secret: string | Uint8Array) => {
    const sha = new Sha256(secret);
    sha.update(data);
    return hex(await sha.digest());
  };
  t.is(await hmac('secret'), createHmac('sha256', 'secret').update(data).digest('hex'));
  const key = new Uint8Array(32).fill(0xfe);
  t.is(await hmac(key), createHmac('sha256', Buffer.from(key)).update(data).digest('hex'));
  // Keys are kept by their bytes, not by the object that held them.
  key.fill(0x01);
  t.is(await hmac(key), createHmac('sha256', Buffer.from(key)).update(data).digest('hex'));
  const view = new Uint8Array(new Uint8Array(64).map((_, i) => i).buffer, 8, 32);
  t.is(await hmac(view), createHmac('sha256', Buffer.from(view)).update(data).digest('hex'), 'a view into a larger buffer');
  for (let i = 0; i < 40; i++) await hmac(new Uint8Array(32).fill(i));
  t.is(await hmac(key), createHmac('sha256', Buffer.from(key)).update(data).digest('hex'), 'still right after many other keys');
});

test('HMACs of short messages, kept with their key, stay right for every key and message and whatever a caller does with them', async (t) => {
  const hmac = async (secret: string, data: string | Uint8Array) => {
    const sha = new Sha256(secret);
    sha.update(data);
    return sha.digest();
  };
  const expected = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');
  // What SigV4 signs on every call: the access key id, with the secret key.
  const first = await hmac('secret-1', 'AKIDEXAMPLE');
  t.is(hex(first), expected('secret-1', 'AKIDEXAMPLE'));
  first.fill(0);
  t.is(hex(await hmac('secret-1', 'AKIDEXAMPLE')), expected('secret-1', 'AKIDEXAMPLE'), 'a digest changed by its caller is not the one kept');
  t.is(hex(await hmac('secret-2', 'AKIDEXAMPLE')), expected('secret-2', 'AKIDEXAMPLE'), 'the same message with another key');
  t.is(hex(await hmac('secret-1', 'AKIDEXAMPLF')), expected('secret-1', 'AKIDEXAMPLF'), 'another message with the same key');
  t.is(hex(await hmac('secret-1', bytes('AKIDEXAMPLE'))), expected('secret-1', 'AKIDEXAMPLE'), 'the same message as bytes');
  // A string is its UTF-8 bytes: 'Ã©' is C3 83 C2 A9, not the two bytes C3 A9 that read 'Ã©' one char a byte.
  t.is(hex(await hmac('secret-1', 'Ã©')), expected('secret-1', 'Ã©'));
  t.is(
    hex(await hmac('secret-1', new Uint8Array([0xc3, 0xa9]))),
    createHmac('sha256', 'secret-1')
      .update(Buffer.from([0xc3, 0xa9]))
      .digest('hex'),
  );
  for (let i = 0; i < 40; i++) t.is(hex(await hmac('secret-1', `message ${i}`)), expected('secret-1', `message ${i}`));
  t.is(hex(await hmac('secret-1', 'AKIDEXAMPLE')), expected('secret-1', 'AKIDEXAMPLE'), 'still right after many other messages');
  const long = 'x'.repeat(65);
  t.is(hex(await hmac('secret-1', long)), expected('secret-1', long), 'a longer message');
});

test('an empty string secret is no secret, as with the SDK default: a plain SHA-256', async (t) => {
  const sha = new Sha256('');
  sha.update('body');
  t.is(hex(await sha.digest()), createHash('sha256').update('body').digest('hex'));
});

test('MD5 of a message body, as the SQS checks compute it', async (t) => {
  const body = JSON.stringify({ type: 'referrer', created_at: '2026-11-25T00:00:00Z', url: 'https://example.com/é' });
  const md5 = new Md5();
  md5.update(bytes(body));
  t.is(hex(await md5.digest()), createHash('md5').update(body).digest('hex'));
});

test('a SigV4 signature made with these hashes is the one made with the reference hashes', async (t) => {
  const request = {
    method: 'POST',
    protocol: 'https:',
    hostname: 'sqs.eu-west-1.amazonaws.com',
    path: '/',
    headers: { host: 'sqs.eu-west-1.amazonaws.com', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ReceiveMessage' },
    body: JSON.stringify({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/pipeline', MaxNumberOfMessages: 10 }),
  };
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const sign = async (sha256: typeof Sha256 | typeof ReferenceSha256) => {
    const signer = new SignatureV4({ service: 'sqs', region: 'eu-west-1', credentials, sha256 });
    const signed = await signer.sign(structuredClone(request), { signingDate: new Date('2026-11-25T12:00:00Z') });
    return signed.headers.authorization;
  };
  // The signer keeps derived signing keys module-wide: cleared, each class derives its own.
  clearCredentialCache();
  const expected = await sign(ReferenceSha256);
  t.regex(expected ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261125\/eu-west-1\/sqs\/aws4_request, .*Signature=[0-9a-f]{64}$/);
  clearCredentialCache();
  t.is(await sign(Sha256), expected, 'signing key derived with these hashes');
  t.is(await sign(Sha256), expected, 'again, with the signing key kept by the signer and its key object by the hashes');
});
