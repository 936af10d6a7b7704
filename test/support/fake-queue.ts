/**
 * An in-memory queue with SQS semantics that matter here (leases, receive counts,
 * redrive to a DLQ), on an injected clock. For machine tests on a simulated clock only;
 * functional tests use a real SQS endpoint.
 */
import type { DeadLetter, DeadLetterResult, EntryFailure, EntryResult, Lease, QueueMessage } from '../../machines/types.ts';
import type { QueuePort } from '../../machines/ports.ts';

interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

interface Stored {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  handle?: string;
}

export class FakeQueue implements QueuePort {
  readonly queueUrl = 'fake://pipeline';
  readonly messages = new Map<string, Stored>();
  readonly deadLettered: Array<{ body: string; reason: string }> = [];
  readonly redriven: string[] = [];
  readonly #clock: Clock;
  readonly #maxReceiveCount: number;
  #next = 0;

  constructor(clock: Clock, maxReceiveCount = 5) {
    this.#clock = clock;
    this.#maxReceiveCount = maxReceiveCount;
  }

  send(body: string): string {
    const messageId = `m${++this.#next}`;
    this.messages.set(messageId, { messageId, body, receiveCount: 0, visibleAt: 0 });
    return messageId;
  }

  /** Messages received and not yet visible again (SQS: ApproximateNumberOfMessagesNotVisible). */
  get invisible(): number {
    const now = this.#clock.now();
    return [...this.messages.values()].filter((m) => m.visibleAt > now).length;
  }

  async prepare() {
    return { dlqUrl: 'fake://dlq', maxReceiveCount: this.#maxReceiveCount, queueVisibilityTimeoutSeconds: 30 };
  }

  async receive(maxMessages: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]> {
    const taken = this.#take(maxMessages);
    if (taken.length > 0 || waitSeconds === 0) return taken;
    // Long poll on the clock: an empty queue answers after the wait.
    await new Promise<void>((resolve) => {
      this.#clock.setTimeout(resolve, waitSeconds * 1000);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return this.#take(maxMessages);
  }

  #take(max: number): QueueMessage[] {
    const now = this.#clock.now();
    const out: QueueMessage[] = [];
    for (const m of this.messages.values()) {
      if (out.length === max) break;
      if (m.visibleAt > now) continue;
      if (m.receiveCount >= this.#maxReceiveCount) {
        this.messages.delete(m.messageId);
        this.redriven.push(m.messageId);
        continue;
      }
      m.receiveCount += 1;
      m.visibleAt = now + 30_000;
      m.handle = `${m.messageId}#${m.receiveCount}`;
      out.push({ messageId: m.messageId, receiptHandle: m.handle, body: m.body, receiveCount: m.receiveCount });
    }
    return out;
  }

  #byHandle(handle: string): Stored | undefined {
    const stored = this.messages.get(handle.split('#')[0]);
    return stored?.handle === handle ? stored : undefined;
  }

  async deleteMessages(leases: readonly Lease[]): Promise<EntryResult> {
    const failed: EntryFailure[] = [];
    for (const { messageId, receiptHandle } of leases) {
      const stored = this.#byHandle(receiptHandle);
      if (stored) this.messages.delete(stored.messageId);
      else failed.push({ messageId, code: 'ReceiptHandleIsInvalid' });
    }
    return { failed };
  }

  async changeVisibility(leases: readonly Lease[], seconds: number): Promise<EntryResult> {
    const failed: EntryFailure[] = [];
    for (const { messageId, receiptHandle } of leases) {
      const stored = this.#byHandle(receiptHandle);
      if (stored) stored.visibleAt = this.#clock.now() + seconds * 1000;
      else failed.push({ messageId, code: 'ReceiptHandleIsInvalid' });
    }
    return { failed };
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<DeadLetterResult> {
    const sent: Array<{ messageId: string; reasonKept: 'full' }> = [];
    for (const letter of letters) {
      this.deadLettered.push({ body: letter.body ?? '', reason: letter.reason.code });
      await this.deleteMessages([letter]);
      sent.push({ messageId: letter.messageId, reasonKept: 'full' });
    }
    return { sent, notSent: [], notDeleted: [] };
  }
}
