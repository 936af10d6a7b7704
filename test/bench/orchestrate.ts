/** Starting fauxqs and competitor processes, preloading bursts, collecting figures. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createPipelineQueues } from '../../src/processor/sqs/embedded.ts';
import { localSqsClient } from '../../src/platform/sqs.ts';
import { makeBurst, sendBurst, type BurstMessage } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { PROCESSOR_NODE_FLAGS } from '../support/node-flags.ts';
import type { Competitor } from './competitors.ts';
import type { StorageVariant } from './harness.ts';
import type { WorkerJob, WorkerResult } from './worker.ts';

const NODE = process.execPath;
const HERE = new URL('.', import.meta.url).pathname;

export interface SqsServer {
  readonly endpoint: string;
  readonly client: SQSClient;
  /** The endpoint process's CPU time so far, in µs. */
  cpuUs(): Promise<number>;
  stop(): void;
}

export async function startSqsServer(): Promise<SqsServer> {
  const child = spawn(NODE, [`${HERE}sqs-server.ts`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { port } = JSON.parse(first.value as string) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localSqsClient(endpoint);
  return {
    endpoint,
    client,
    cpuUs: async () => {
      child.stdin!.write('cpu\n');
      const { value, done } = await lines.next();
      if (done) throw new Error('the SQS endpoint process exited');
      return (JSON.parse(value) as { cpuUs: number }).cpuUs;
    },
    stop: () => {
      client.destroy();
      child.stdin!.end();
      child.kill('SIGTERM');
    },
  };
}

export interface Burst {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly messages: BurstMessage[];
}

/** A fresh queue pair preloaded with `count` visits, about 2 % invalid. */
export async function preload(server: SqsServer, count: number, seed: number): Promise<Burst> {
  const suffix = randomUUID().slice(0, 8);
  const { queueUrl, dlqUrl } = await createPipelineQueues(server.endpoint, { queue: `bench-${suffix}`, dlq: `bench-${suffix}-dlq` });
  const messages = makeBurst(count, 0.02, seededRandom(seed));
  await sendBurst(server.client, queueUrl, messages, 32);
  return { queueUrl, dlqUrl, messages };
}

function startWorker(
  job: WorkerJob & { reportIds?: boolean },
  nodeOptions: readonly string[],
): { child: ChildProcess; ready: Promise<void>; result: Promise<WorkerResult> } {
  // Every competitor gets the young-generation cap the processor is deployed with.
  const child = spawn(NODE, [...PROCESSOR_NODE_FLAGS, ...nodeOptions, `${HERE}worker.ts`, JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ready = lines.next().then(() => undefined);
  const result = ready.then(async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${job.competitor} worker exited without figures`);
    return JSON.parse(value) as WorkerResult;
  });
  return { child, ready, result };
}

export interface Run {
  readonly competitor: Competitor;
  readonly processes: number;
  readonly pollers: number;
  readonly messages: number;
  readonly seconds: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly callsPerMessage: number;
  /** Mean ms of a receive that returned messages (the slowest process's), injected round trip included. */
  readonly receiveMs: number;
  /** Share of the drain the event loop was busy (the busiest process's), 0 to 1. */
  readonly loopBusy: number;
  /** CPU time of the competitor's process(es) per message, µs. */
  readonly cpuUsPerMessage: number;
  /** CPU time of the SQS endpoint's process per message over the same drain, µs. */
  readonly endpointCpuUsPerMessage: number;
  readonly peakRssMb: number;
  readonly written: number;
  readonly duplicates: number;
  readonly visitIds?: string[];
}

export interface MeasureOptions {
  readonly competitor: Competitor;
  readonly pollers: number;
  readonly rttMs: number;
  readonly storageMs: number;
  /** Defaults to echo: every competitor's writes run the real echo adapter and its log line. */
  readonly storageVariant?: StorageVariant;
  readonly processes?: number;
  readonly reportIds?: boolean;
  /** Extra node options for the competitor's process(es), e.g. --cpu-prof. */
  readonly nodeOptions?: readonly string[];
}

/** Drains one preloaded burst with `processes` workers of one competitor started together. */
export async function measure(server: SqsServer, burst: Burst, options: MeasureOptions): Promise<Run> {
  const processes = options.processes ?? 1;
  const { nodeOptions = [], storageVariant = 'echo', ...job } = options;
  const workers = Array.from({ length: processes }, () =>
    startWorker({ ...job, storageVariant, endpoint: server.endpoint, queueUrl: burst.queueUrl, dlqUrl: burst.dlqUrl }, nodeOptions),
  );
  await Promise.all(workers.map((w) => w.ready));
  const endpointCpuAtStart = await server.cpuUs();
  for (const worker of workers) worker.child.stdin!.end('go\n');
  const results = await Promise.all(workers.map((w) => w.result));
  const endpointCpuUs = (await server.cpuUs()) - endpointCpuAtStart;
  await Promise.all(workers.map((w) => (w.child.exitCode === null ? new Promise((resolve) => w.child.once('exit', resolve)) : undefined)));
  const seconds = Math.max(...results.map((r) => r.seconds));
  const n = burst.messages.length;
  return {
    competitor: options.competitor,
    processes,
    pollers: options.pollers,
    messages: n,
    seconds,
    throughput: n / seconds,
    p50Ms: Math.max(...results.map((r) => r.p50Ms)),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    callsPerMessage: results.reduce((sum, r) => sum + r.sqsCalls, 0) / n,
    receiveMs: Math.max(...results.map((r) => r.receiveMs)),
    loopBusy: Math.max(...results.map((r) => r.loopBusy)),
    cpuUsPerMessage: results.reduce((sum, r) => sum + r.cpuUs, 0) / n,
    endpointCpuUsPerMessage: endpointCpuUs / n,
    peakRssMb: Math.max(...results.map((r) => r.peakRssMb)),
    written: results.reduce((sum, r) => sum + r.written, 0),
    duplicates: results.reduce((sum, r) => sum + r.duplicates, 0),
    ...(options.reportIds ? { visitIds: results.flatMap((r) => r.visitIds ?? []) } : {}),
  };
}
