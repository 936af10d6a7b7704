/**
 * One competitor in its own process (so its peak RSS is its own). Reads its job as JSON from
 * argv, prints {"ready":true}, starts on a "go" line from stdin, and prints its figures as JSON
 * once the queue is drained (nothing visible or in flight).
 */
import { createInterface } from 'node:readline';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '../../src/queues.ts';
import { runCompetitor, type Competitor, type RunContext } from './competitors.ts';
import { delayedClient, delayedStorage, percentile } from './harness.ts';

export interface WorkerJob {
  readonly competitor: Competitor;
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly pollers: number;
  readonly rttMs: number;
  readonly storageMs: number;
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
  readonly peakRssMb: number;
  /** visit ids written, for exactly-once checks (only when asked: they are large). */
  readonly visitIds?: string[];
}

const job = JSON.parse(process.argv[2]) as WorkerJob & { reportIds?: boolean };
const counting = delayedClient(job.endpoint, job.rttMs);
const storage = delayedStorage(job.storageMs);
const watcher = new SQSClient({ endpoint: job.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

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

const started = performance.now();
const ctx: RunContext = {
  client: counting.client,
  endpoint: job.endpoint,
  queueUrl: job.queueUrl,
  dlqUrl: job.dlqUrl,
  pollers: job.pollers,
  storage,
  drained: drained(),
  discarded: 0,
};
const drainedAt = ctx.drained.then(() => performance.now());
await runCompetitor(job.competitor, ctx);
const seconds = ((await drainedAt) - started) / 1000;
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
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  ...(job.reportIds ? { visitIds: [...storage.latencies.keys()] } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
counting.client.destroy();
watcher.destroy();
process.exit(0);
