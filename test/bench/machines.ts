/**
 * `node test/bench/machines.ts [--count N] [--reps R] [--events] [--queue memory|adapter] [--io-ms MS]`:
 * what the actor system costs per message, without SQS or HTTP. The processor's machines, wired as `npm start` wires them
 * (provideMachines, its default configuration), drain an in-memory queue that answers at once;
 * a plain loop drains the same queue with the same validation, grouping and storage. Both run
 * in this process, alternating, and print CPU µs per message; the difference is what the
 * machines, credits and limiters add. `--queue adapter` puts the real SQS adapter, per-call
 * deadlines and SQS limiter in front of a client stand-in that answers at once; `--io-ms` makes
 * each write and acknowledgement wait, so batches overlap as they do against SQS. `--events`
 * also counts XState events and actors per message (the inspector slows that run).
 */
import { readOptions } from '../../scripts/support/cli.ts';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import PQueue from 'p-queue';
import pino from 'pino';
import { createActor, toPromise, type InspectionEvent } from 'xstate';
import { CreditPool } from '../../machines/credit-pool.ts';
import type { QueuePort, StoragePort } from '../../machines/ports.ts';
import type { DeadLetter, DeadLetterResult, EntryResult, Lease, QueueMessage } from '../../machines/types.ts';
import { groupByType, validateMessages } from '../../machines/poller.ts';
import { VISIT_TYPES, visitType } from '../../src/contract/visit-types.ts';
import { loadConfig, type ProcessorConfig } from '../../src/processor/config/config.ts';
import { sqsClientOptions, withDeadlines } from '../../src/processor/sqs/client.ts';
import { SqsQueue } from '../../src/processor/sqs/queue.ts';
import { provideMachines, supervisorInput } from '../../src/processor/processor.ts';
import { createReporter, createStats } from '../../src/processor/runtime/report.ts';
import { makeBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { median } from './harness.ts';

const cli = readOptions('machines', 'usage: node test/bench/machines.ts [--count N] [--reps R] [--events] [--queue memory|adapter] [--io-ms MS]', {
  count: { type: 'string', default: '100000' },
  reps: { type: 'string', default: '5' },
  events: { type: 'boolean', default: false },
  queue: { type: 'string', default: 'memory' },
  'io-ms': { type: 'string', default: '0' },
});
const { values } = cli;
const count = cli.wholeNumber('count', values.count, 1);
const reps = cli.wholeNumber('reps', values.reps, 1);
if (values.queue !== 'memory' && values.queue !== 'adapter') cli.fail(`--queue must be memory or adapter, not "${values.queue}"`);
const POLLERS = 16;

/** A queue that answers at once: receives pop the next bodies, acknowledgements count. */
class InstantQueue implements QueuePort {
  readonly queueUrl = 'memory://pipeline';
  acknowledged = 0;
  deadLettered = 0;
  #next = 0;
  readonly #bodies: readonly string[];
  readonly #done: () => void;

  constructor(bodies: readonly string[], done: () => void) {
    this.#bodies = bodies;
    this.#done = done;
  }

  async prepare() {
    return { dlqUrl: 'memory://dlq', maxReceiveCount: 5, queueVisibilityTimeoutSeconds: 30 };
  }

  async receive(maxMessages: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]> {
    const out: QueueMessage[] = [];
    while (out.length < maxMessages && this.#next < this.#bodies.length) {
      const i = this.#next++;
      out.push({ messageId: `m${i}`, receiptHandle: `h${i}`, body: this.#bodies[i], receiveCount: 1 });
    }
    if (out.length === 0 && waitSeconds > 0) {
      // Empty: a long poll that only a stop ends.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return out;
  }

  #settled(n: number): void {
    if (this.acknowledged + this.deadLettered === this.#bodies.length && n > 0) this.#done();
  }

  async deleteMessages(leases: readonly Lease[]): Promise<EntryResult> {
    if (delayMs) await sleep(delayMs);
    this.acknowledged += leases.length;
    this.#settled(leases.length);
    return { failed: [] };
  }

  async changeVisibility(): Promise<EntryResult> {
    return { failed: [] };
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<DeadLetterResult> {
    this.deadLettered += letters.length;
    this.#settled(letters.length);
    return { sent: letters.map((l) => ({ messageId: l.messageId, reasonKept: 'full' as const })), notSent: [], notDeleted: [] };
  }
}

/**
 * An SQS client stand-in that answers every call at once from the same bodies, so the real
 * adapter (SqsQueue), the per-call deadlines and the SQS limiter run without HTTP.
 */
function instantClient(bodies: readonly string[], done: () => void): SQSClient {
  let next = 0;
  let settled = 0;
  const settle = (n: number) => {
    settled += n;
    if (settled === bodies.length && n > 0) done();
  };
  const send = async (command: { input: Record<string, unknown> }) => {
    if (command instanceof ReceiveMessageCommand) {
      const max = command.input.MaxNumberOfMessages ?? 10;
      const Messages = [];
      while (Messages.length < max && next < bodies.length) {
        const i = next++;
        Messages.push({ MessageId: `m${i}`, ReceiptHandle: `h${i}`, Body: bodies[i], Attributes: { ApproximateReceiveCount: '1' } });
      }
      // Empty: a short long poll, so timers (linger, heartbeats) get their turn.
      if (Messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      return { Messages };
    }
    if (command instanceof DeleteMessageBatchCommand) settle(command.input.Entries!.length);
    if (command instanceof SendMessageBatchCommand) {
      return { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    }
    return { Failed: [] };
  };
  return { send, config: {}, destroy: () => {} } as unknown as SQSClient;
}

const delayMs = cli.wholeNumber('io-ms', values['io-ms'], 0, 60_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const storage: StoragePort = {
  backend: 'none',
  writeBatch: async () => {
    if (delayMs) await sleep(delayMs);
  },
};
const silent = pino({ level: 'silent' });

interface Result {
  cpuUs: number;
  events: number;
  actors: number;
}

/** The queue the machines drain: the in-memory port, or the real adapter over the stand-in client. */
function queueFor(bodies: readonly string[], done: () => void, config: ProcessorConfig): QueuePort {
  if (values.queue === 'memory') return new InstantQueue(bodies, done);
  const client = withDeadlines(instantClient(bodies, done), sqsClientOptions(config, undefined).deadlines);
  return new SqsQueue({
    client,
    queueUrl: 'memory://pipeline',
    dlqUrl: 'memory://dlq',
    limiter: new PQueue({ concurrency: config.sqsConcurrency }),
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
  });
}

async function runMachines(bodies: readonly string[], countEvents: boolean): Promise<Result> {
  const config = loadConfig({ POLLERS: String(POLLERS), RECEIVE_WAIT_SECONDS: '1' });
  let drained!: () => void;
  const done = new Promise<void>((resolve) => (drained = resolve));
  const queue = queueFor(bodies, drained, config);
  const supervisor = provideMachines({
    queue,
    storage,
    credits: new CreditPool(config.maxInFlight, Date.now),
    writeLimiters: new Map(VISIT_TYPES.map((t) => [t.name, new PQueue({ concurrency: config.writeConcurrency })])),
    config,
    report: createReporter(silent, createStats()),
    logger: silent,
  });
  let events = 0;
  let actors = 0;
  const inspect = (e: InspectionEvent) => {
    if (e.type === '@xstate.event') events += 1;
    else if (e.type === '@xstate.actor') actors += 1;
  };
  const cpu = process.cpuUsage();
  const actor = createActor(supervisor, { input: supervisorInput(config), ...(countEvents ? { inspect } : {}) });
  actor.start();
  await done;
  const used = process.cpuUsage(cpu);
  actor.send({ type: 'SHUTDOWN' });
  await toPromise(actor);
  return { cpuUs: used.user + used.system, events, actors };
}

/** The bare loop: receive, validate, write by type, acknowledge (or dead-letter) in one call each. */
async function runLoop(bodies: readonly string[]): Promise<Result> {
  let drained!: () => void;
  const done = new Promise<void>((resolve) => (drained = resolve));
  const stop = new AbortController();
  const memory = values.queue === 'memory' ? new InstantQueue(bodies, drained) : undefined;
  const client = memory ? undefined : instantClient(bodies, drained);
  const receive = async (): Promise<QueueMessage[]> => {
    if (memory) return memory.receive(10, 1, stop.signal);
    const { Messages = [] } = await client!.send(new ReceiveMessageCommand({ QueueUrl: 'memory://pipeline', MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    return Messages.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body, receiveCount: 1 }));
  };
  const acknowledge = async (leases: readonly Lease[]) => {
    if (memory) return memory.deleteMessages(leases);
    const Entries = leases.map((l, i) => ({ Id: String(i), ReceiptHandle: l.receiptHandle }));
    return client!.send(new DeleteMessageBatchCommand({ QueueUrl: 'memory://pipeline', Entries }));
  };
  const cpu = process.cpuUsage();
  const loop = async () => {
    while (!stop.signal.aborted) {
      const messages = await receive();
      if (messages.length === 0) break;
      const { valid } = validateMessages(messages);
      await Promise.all(
        [...groupByType(valid)].map(([type, deliveries]) =>
          storage.writeBatch(
            visitType(type),
            deliveries.map((d) => d.visit),
            stop.signal,
          ),
        ),
      );
      // Rejected ones are acknowledged too: dead-lettering is the processor's extra, not the loop's.
      await acknowledge(messages);
    }
  };
  const loops = Array.from({ length: POLLERS }, loop);
  await done;
  const used = process.cpuUsage(cpu);
  stop.abort();
  await Promise.all(loops);
  return { cpuUs: used.user + used.system, events: 0, actors: 0 };
}

const bodies = makeBurst(count, 0.02, seededRandom(1)).map((m) => m.body);
const perMessage = (us: number) => us / count;
// One unmeasured run each first: V8 compiles the hot paths.
await runMachines(bodies.slice(0, 10_000), false);
await runLoop(bodies.slice(0, 10_000));
const machines: number[] = [];
const loop: number[] = [];
for (let rep = 0; rep < reps; rep++) {
  machines.push(perMessage((await runMachines(bodies, false)).cpuUs));
  loop.push(perMessage((await runLoop(bodies)).cpuUs));
}
const fmt = (runs: number[]) => `${median(runs).toFixed(1)} µs/msg (${runs.map((r) => r.toFixed(1)).join(' / ')})`;
console.log(
  `${count} messages, ${POLLERS} pollers, ${values.queue === 'memory' ? 'in-memory queue port' : 'SQS adapter over an instant client'}, no storage, medians of ${reps}`,
);
console.log(`machines: ${fmt(machines)}`);
console.log(`loop:     ${fmt(loop)}`);
console.log(`machines - loop: ${(median(machines) - median(loop)).toFixed(1)} µs/msg`);
if (values.events) {
  const counted = await runMachines(bodies, true);
  console.log(`XState events per message: ${(counted.events / count).toFixed(2)}, actors per message: ${(counted.actors / count).toFixed(3)}`);
}
