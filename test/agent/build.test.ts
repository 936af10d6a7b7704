/**
 * The deployment package: a valid zip holding index.js whose `handler` works against a real
 * SQS endpoint, built reproducibly. The zip is read back here with a reader independent of
 * the writer (central directory first, as unzip does).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import test from 'ava';
import { AGENT_HANDLER, buildAgent } from '../../scripts/build-agent.ts';
import { createZip } from '../../scripts/zip.ts';
import { startTestQueue } from './support/sqs.ts';

interface ReadEntry {
  name: string;
  data: Buffer;
  mode: number;
}

function readZip(zip: Buffer): ReadEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ReadEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central header at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    if (data.length !== size) throw new Error(`${name}: size ${data.length}, header says ${size}`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    entries.push({ name, data, mode });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

test('the zip writer round-trips several entries, empty and binary ones included', (t) => {
  const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
  const entries = [
    { name: 'index.js', data: Buffer.from('exports.handler = async () => 1;\n') },
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'lib/data.bin', data: binary, mode: 0o755 },
  ];
  const zip = createZip(entries);
  const read = readZip(zip);
  t.deepEqual(
    read.map((e) => [e.name, e.data.equals(entries.find((x) => x.name === e.name)!.data), e.mode]),
    [
      ['index.js', true, 0o100644],
      ['empty.txt', true, 0o100644],
      ['lib/data.bin', true, 0o100755],
    ],
  );
  t.true(zip.equals(createZip(entries)), 'same input, same bytes');
});

test('build:agent: a reproducible zip with index.js exporting a working handler', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-agent-build-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await buildAgent(join(dir, 'first.zip'));
  const second = await buildAgent(join(dir, 'second.zip'));
  const zip = readFileSync(first.zipPath);
  t.is(zip.length, first.zipBytes);
  t.true(zip.equals(readFileSync(second.zipPath)), 'two builds give the same bytes (stable source_code_hash)');
  t.is(AGENT_HANDLER, 'index.handler');

  const entries = readZip(zip);
  t.deepEqual(
    entries.map((e) => e.name),
    ['index.js'],
  );
  const code = entries[0]!.data;
  t.is(code.length, first.bundleBytes);
  // Only the SDK's optional CRT signer (SigV4a, unused by SQS) may stay an unresolved require.
  const external = [...code.toString('utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!).filter((name) => !isBuiltin(name));
  t.deepEqual([...new Set(external)], ['@aws-sdk/signature-v4-crt'], 'the AWS SDK, pino and runtypes are bundled');

  // Load the bundle as Lambda would (CommonJS, index.js) from a directory with no node_modules
  // above it, so it must be self-contained, and send a visit through it.
  const queue = await startTestQueue();
  t.teardown(() => queue.stop());
  const file = join(dir, 'index.js');
  writeFileSync(file, code);
  process.env.TRAFFIC_QUEUE_URL = queue.queueUrl;
  process.env.AWS_ENDPOINT_URL = queue.endpoint;
  process.env.LOG_LEVEL = 'silent';
  const bundle = createRequire(import.meta.url)(file) as { handler: (event: unknown, context?: unknown) => Promise<{ statusCode: number; body: string }> };
  t.is(typeof bundle.handler, 'function');
  const accepted = await bundle.handler(
    {
      version: '2.0',
      requestContext: { http: { method: 'GET', sourceIp: '203.0.113.5' } },
      rawQueryString: 'type=type-in',
      queryStringParameters: { type: 'type-in' },
    },
    { awsRequestId: '0b7e3c1e-2f0a-4c55-9d7e-1a2b3c4d5e6f', getRemainingTimeInMillis: () => 3_000 },
  );
  t.is(accepted.statusCode, 202, accepted.body);
  const rejected = await bundle.handler({ queryStringParameters: { type: 'referrer', url: 'javascript:alert(1)' } });
  t.is(rejected.statusCode, 400);
  const messages = await queue.receiveAll();
  t.is(messages.length, 1);
  t.like(JSON.parse(messages[0]!.Body!), { type: 'type-in', ip: '203.0.113.5', visit_id: '0b7e3c1e-2f0a-4c55-9d7e-1a2b3c4d5e6f' });
  t.is(messages[0]!.MessageAttributes?.visit_type?.StringValue, 'type-in');
});
