/**
 * One competitor in its own process (so its peak RSS and CPU time are its own). Reads its job
 * as JSON from argv, prints {"ready":true}, starts on a "go" line from stdin, and prints its
 * figures as JSON once the queue is drained (nothing visible or in flight).
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localSqsClient } from '../../src/platform/sqs.ts';
import { percentile } from '../../scripts/support/percentile.ts';
import { processorSqsClient, sqsClientOptions } from '../../src/processor/sqs/client.ts';
import { processorConfig, runCompetitor, type Competitor, type RunContext } from './competitors.ts';
import { benchLogger, countedClient, delayedStorage, delayRequests, type StorageVariant } from './harness.ts';

export interface WorkerJob {
  readonly competitor: Competitor;
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly pollers: number;
  readonly rttMs: number;
  readonly storageMs: number;
  readonly storageVariant: StorageVariant;
}

export interface WorkerResult {
  readonly competitor: Competitor;
  readonly seconds: number;
  readonly written: number;
  readonly duplicates: number;
  readonly discarded: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sqsCalls: number;
  /** Mean ms of a receive that returned messages, injected round trip included. */
  readonly receiveMs: number;
  /** Share of the drain this process's event loop spent running code rather than waiting for I/O or timers. */
  readonly loopBusy: number;
  /** CPU time (user + system) this process spent from "go" until the queue was drained. */
  readonly cpuUs: number;
  readonly peakRssMb: number;
  /** visit ids written, for exactly-once checks (only when asked: they are large). */
  readonly visitIds?: string[];
}

const job = JSON.parse(process.argv[2]) as WorkerJob & { reportIds?: boolean };
// The processor talks to SQS through the client it builds in production (timeouts, agent, the
// per-message calls without the SDK's middleware), and so does the limit, so that its calls cost
// what the processor's cost; the others talk through the SDK's default client.
const processorClient = job.competitor === 'processor' || job.competitor === 'limit';
const processorClientOptions = {
  ...sqsClientOptions(processorConfig(job.pollers), job.endpoint),
  connection: { endpoint: job.endpoint, region: 'us-east-1', localCredentials: true },
};
const watcherAgent = new http.Agent({ keepAlive: true });
delayRequests(job.rttMs, watcherAgent);
const counting = countedClient(processorClient ? processorSqsClient(processorClientOptions) : localSqsClient(job.endpoint, { maxAttempts: 3 }));
const logger = benchLogger();
const storage = delayedStorage(job.storageMs, job.storageVariant, logger);
const watcher = localSqsClient(job.endpoint, { requestHandler: new NodeHttpHandler({ httpAgent: watcherAgent }) });

/**
 * Under --cpu-prof, writes the drain's start and end (µs, the profile's monotonic clock) next to
 * the profile, so profile-table.ts counts the drain only, not start-up.
 */
function writeProfileWindow(startNs: bigint, endNs: bigint): void {
  const dir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);
  if (!dir) return;
  writeFileSync(`${dir}/${job.competitor}-${process.pid}.window.json`, JSON.stringify({ startUs: Number(startNs / 1000n), endUs: Number(endNs / 1000n) }));
}

async function drained(): Promise<void> {
  for (;;) {
    const { Attributes = {} } = await watcher.send(
      new GetQueueAttributesCommand({ QueueUrl: job.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    if (Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;

const loopAtStart = performance.eventLoopUtilization();
const started = performance.now();
const cpuAtStart = process.cpuUsage();
const clockAtStart = process.hrtime.bigint();
const ctx: RunContext = {
  client: counting.client,
  endpoint: job.endpoint,
  queueUrl: job.queueUrl,
  dlqUrl: job.dlqUrl,
  pollers: job.pollers,
  storage,
  logger,
  drained: drained(),
  discarded: 0,
};
const drainedAt = ctx.drained.then(() => ({
  at: performance.now(),
  cpu: process.cpuUsage(cpuAtStart),
  loop: performance.eventLoopUtilization(loopAtStart),
}));
await runCompetitor(job.competitor, ctx);
const end = await drainedAt;
writeProfileWindow(clockAtStart, clockAtStart + BigInt(Math.round((end.at - started) * 1e6)));
const seconds = (end.at - started) / 1000;
const latencies = [...storage.latencies.values()].sort((a, b) => a - b);
const result: WorkerResult = {
  competitor: job.competitor,
  seconds,
  written: storage.latencies.size,
  duplicates: storage.duplicates,
  discarded: ctx.discarded,
  p50Ms: percentile(latencies, 50),
  p99Ms: percentile(latencies, 99),
  sqsCalls: counting.calls(),
  receiveMs: counting.receiveMs(),
  loopBusy: end.loop.utilization,
  cpuUs: end.cpu.user + end.cpu.system,
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  ...(job.reportIds ? { visitIds: [...storage.latencies.keys()] } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
counting.client.destroy();
watcher.destroy();
process.exit(0);
