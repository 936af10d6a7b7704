/**
 * Sends generated events through an agent handler at a target rate, with a bounded number of
 * invocations in flight (as many as there would be warm Lambda containers), and counts what
 * came back. Ends when the events do, or when `signal` aborts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvocationContext } from '../../src/agent/agent.ts';
import { percentile } from '../support/percentile.ts';
import type { TrafficEvent } from './generate.ts';

/** Anything shaped like the agent handler (the real one, a bundle, a wrapper that injects faults). */
export type Invoke = (event: unknown, context?: InvocationContext) => Promise<{ readonly statusCode: number; readonly body: string }>;

export interface RunOptions {
  readonly events: Iterable<TrafficEvent>;
  readonly invoke: Invoke;
  /** Invocations started per second; 0 or absent: as fast as `concurrency` allows. */
  readonly rate?: number;
  /** Invocations in flight at most (default 16). */
  readonly concurrency?: number;
  /** A fresh context per invocation (default: a random request id and a 3 s deadline). */
  readonly context?: () => InvocationContext;
  readonly signal?: AbortSignal;
  /** Called after every invocation, in completion order. */
  readonly onResult?: (result: TrafficResult, progress: TrafficProgress) => void;
}

export type Outcome = 'accepted' | 'rejected' | 'failed';

export interface TrafficResult {
  readonly event: TrafficEvent;
  /** HTTP status, or undefined when the handler threw. */
  readonly status: number | undefined;
  readonly outcome: Outcome;
  /** The answer differs from what the event expected. */
  readonly unexpected: boolean;
  /** For accepted visits, the id the agent gave. */
  readonly visitId?: string;
  readonly latencyMs: number;
}

export interface TrafficProgress {
  readonly sent: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  readonly unexpected: number;
  readonly elapsedMs: number;
}

export interface TrafficSummary extends TrafficProgress {
  /** Answers by HTTP status (`error` for a thrown handler error). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Invocations per second over the whole run. */
  readonly perSecond: number;
  /** Accepted (enqueued) visits per second. */
  readonly acceptedPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** True when the run stopped because `signal` aborted. */
  readonly aborted: boolean;
}

const DEFAULT_CONCURRENCY = 16;
/** Latencies kept for percentiles: a uniform sample, so memory stays bounded on long runs. */
const LATENCY_SAMPLES = 10_000;

function outcomeOf(status: number | undefined): Outcome {
  if (status !== undefined && status >= 200 && status < 300) return 'accepted';
  if (status !== undefined && status >= 400 && status < 500) return 'rejected';
  return 'failed';
}

function visitIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { visit_id?: unknown };
    return typeof parsed.visit_id === 'string' ? parsed.visit_id : undefined;
  } catch {
    return undefined;
  }
}

function defaultContext(): InvocationContext {
  const deadline = Date.now() + 3_000;
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() };
}

export async function runTraffic(options: RunOptions): Promise<TrafficSummary> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const intervalMs = options.rate && options.rate > 0 ? 1000 / options.rate : 0;
  const makeContext = options.context ?? defaultContext;
  const signal = options.signal;
  const iterator = options.events[Symbol.iterator]();
  const byStatus: Record<string, number> = {};
  const samples: number[] = [];
  let maxLatency = 0;
  let started = 0;
  const counts = { sent: 0, accepted: 0, rejected: 0, failed: 0, unexpected: 0 };
  const t0 = performance.now();
  const progress = (): TrafficProgress => ({ ...counts, elapsedMs: performance.now() - t0 });

  const record = (latencyMs: number) => {
    maxLatency = Math.max(maxLatency, latencyMs);
    if (samples.length < LATENCY_SAMPLES) samples.push(latencyMs);
    else {
      const slot = Math.floor(Math.random() * counts.sent);
      if (slot < LATENCY_SAMPLES) samples[slot] = latencyMs;
    }
  };

  async function invokeOne(event: TrafficEvent): Promise<void> {
    const begin = performance.now();
    let status: number | undefined;
    let visitId: string | undefined;
    try {
      const response = await options.invoke(event.event, makeContext());
      status = response.statusCode;
      if (status === 202) visitId = visitIdOf(response.body);
    } catch {
      status = undefined;
    }
    const latencyMs = performance.now() - begin;
    const outcome = outcomeOf(status);
    const unexpected = status !== event.expect.status;
    counts.sent++;
    counts[outcome]++;
    if (unexpected) counts.unexpected++;
    byStatus[status ?? 'error'] = (byStatus[status ?? 'error'] ?? 0) + 1;
    record(latencyMs);
    options.onResult?.({ event, status, outcome, unexpected, latencyMs, ...(visitId !== undefined ? { visitId } : {}) }, progress());
  }

  async function worker(): Promise<void> {
    while (!signal?.aborted) {
      const next = iterator.next();
      if (next.done) return;
      const slot = started++;
      if (intervalMs > 0) {
        const wait = t0 + slot * intervalMs - performance.now();
        if (wait > 0) {
          try {
            await sleep(wait, undefined, signal ? { signal } : {});
          } catch {
            return; // aborted while waiting: this event is not sent
          }
        }
      }
      await invokeOne(next.value);
    }
  }

  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  const sorted = samples.sort((a, b) => a - b);
  const seconds = Math.max(elapsedMs, 1) / 1000;
  return {
    ...counts,
    elapsedMs,
    byStatus,
    perSecond: counts.sent / seconds,
    acceptedPerSecond: counts.accepted / seconds,
    latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: maxLatency },
    aborted: signal?.aborted ?? false,
  };
}
