/**
 * The processor's SQS client against a server that accepts connections and never answers
 * (a half-open peer): each call ends at its own deadline or its caller's abort, and the
 * request's socket is closed, even though the SDK builds each command's middleware once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import test, { type ExecutionContext } from 'ava';
import { createProcessorSqsClient, DeadlineError } from '../../src/processor/sqs/client.ts';
import { queueDepth, startTestEndpoint } from '../support/sqs.ts';

/** Counts sockets as they open and close; `opened(n)` and `closed(n)` settle when the count reaches n. */
class SocketCounts {
  readonly sockets: Socket[] = [];
  readonly closedSockets = new Set<Socket>();
  /** How long each closed socket was open, in ms. */
  readonly openMs = new Map<Socket, number>();
  readonly #waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  track(socket: Socket): void {
    this.sockets.push(socket);
    const openedAt = Date.now();
    socket.on('close', () => {
      this.closedSockets.add(socket);
      this.openMs.set(socket, Date.now() - openedAt);
      this.#wake();
    });
    socket.on('error', () => {});
    this.#wake();
  }

  opened(n: number): Promise<void> {
    return this.#until(() => this.sockets.length >= n);
  }

  closed(n: number): Promise<void> {
    return this.#until(() => this.closedSockets.size >= n);
  }

  #until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ check, resolve }));
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) {
      if (!waiter.check()) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

interface SilentServer {
  readonly endpoint: string;
  readonly counts: SocketCounts;
  readonly server: Server;
}

async function silentServer(): Promise<SilentServer> {
  const counts = new SocketCounts();
  const server = createServer((socket) => {
    counts.track(socket);
    // Reads (and drops) the request, so the peer's close is seen; never answers.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, counts, server };
}

function client(endpoint: string, callTimeoutMs: number) {
  return createProcessorSqsClient({
    connection: { region: 'us-east-1', endpoint, localCredentials: true },
    deadlines: { callTimeoutMs, connectTimeoutMs: 1_000, receiveMarginMs: 300 },
    maxWaitSeconds: 1,
    maxSockets: 8,
  });
}

/** The processor's client (call deadline `callTimeoutMs`) to a silent peer; both closed when the test ends. */
async function clientOfSilentPeer(t: ExecutionContext, callTimeoutMs: number) {
  const silent = await silentServer();
  const sqs = client(silent.endpoint, callTimeoutMs);
  t.teardown(() => {
    sqs.destroy();
    silent.server.close();
  });
  return { silent, sqs };
}

const deleteCall = () => new DeleteMessageBatchCommand({ QueueUrl: 'http://127.0.0.1/000000000000/q', Entries: [{ Id: 'a', ReceiptHandle: 'h' }] });

test('a call to a peer that never answers fails at its deadline and its socket is closed; the next call opens a new one', async (t) => {
  const { silent, sqs } = await clientOfSilentPeer(t, 400);
  const started = Date.now();
  const error = await t.throwsAsync(sqs.send(deleteCall()), { instanceOf: DeadlineError });
  const took = Date.now() - started;
  t.regex(error.message, /DeleteMessageBatch to http:\/\/127\.0\.0\.1:\d+ got no answer within 400 ms/);
  t.true(took >= 390 && took < 3_000, `failed after ${took} ms`);
  // The request was aborted and its socket closed: by the deadline, not by the socket's own inactivity timeout (2.3 s).
  await silent.counts.closed(1);
  const [first] = silent.counts.sockets;
  t.true(silent.counts.openMs.get(first)! < 2_000, `closed after ${silent.counts.openMs.get(first)} ms`);
  // The same command class again: its middleware chain is cached, and the new call's own signal still reaches its request.
  await t.throwsAsync(sqs.send(deleteCall()), { instanceOf: DeadlineError });
  await silent.counts.closed(2);
  t.is(silent.counts.sockets.length, 2, 'a new connection for the next call');
});

test('calls in flight at once keep their own signals: the one its caller aborts ends then, the other at its deadline', async (t) => {
  const { silent, sqs } = await clientOfSilentPeer(t, 1_500);
  const caller = new AbortController();
  const started = Date.now();
  const aborted = sqs.send(deleteCall(), { abortSignal: caller.signal }).then(
    () => 'answered',
    () => Date.now() - started,
  );
  const timed = sqs.send(deleteCall()).then(
    () => 'answered',
    (error: Error) => ({ name: error.name, ms: Date.now() - started }),
  );
  // Both requests are on the wire: abort the first now.
  await silent.counts.opened(2);
  caller.abort();
  const abortedAfter = await aborted;
  t.true(typeof abortedAfter === 'number', 'the aborted call failed');
  await silent.counts.closed(1);
  t.is(silent.counts.closedSockets.size, 1, 'only the aborted call closed its socket so far');
  const other = (await timed) as { name: string; ms: number };
  t.is(other.name, 'DeadlineError', 'the other call was still running after the abort, and ended at its own deadline');
  t.true(other.ms >= 1_450 && other.ms > (abortedAfter as number), `the other call ran to its own deadline (${other.ms} ms)`);
  await silent.counts.closed(2);
  t.is(silent.counts.closedSockets.size, 2);
});

test('against a real endpoint each call of a cached command class gets its own answer', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const processorClient = client(sqs.endpoint, 2_000);
  t.teardown(() => processorClient.destroy());
  for (const body of ['one', 'two', 'three']) await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
  const bodies: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { Messages = [] } = await processorClient.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
    t.is(Messages.length, 1);
    bodies.push(Messages[0].Body!);
    const { Successful = [] } = await processorClient.send(
      new DeleteMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: [{ Id: `e${i}`, ReceiptHandle: Messages[0].ReceiptHandle! }] }),
    );
    t.deepEqual(
      Successful.map((s) => s.Id),
      [`e${i}`],
    );
  }
  t.deepEqual(bodies.sort(), ['one', 'three', 'two']);
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
});

test('a retry in flight at the deadline is aborted too: no request outlives the call', async (t) => {
  // After a first call that warms the client, a quick 500, so the call is retried (after at most
  // a few hundred ms), and a peer that then never answers: the retry is what the deadline ends.
  const counts = new SocketCounts();
  const server = createServer((socket) => {
    counts.track(socket);
    const n = counts.sockets.length;
    socket.on('data', () => {
      if (n === 1) socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
      else if (n === 2) socket.end('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sqs = client(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 1_500);
  t.teardown(() => {
    sqs.destroy();
    server.close();
  });
  await sqs.send(deleteCall());
  await t.throwsAsync(sqs.send(deleteCall()), { instanceOf: DeadlineError });
  t.is(counts.sockets.length, 3, 'the warm-up, the 500 and its retry');
  // The retry's socket must close at the deadline, not at the socket's own inactivity timeout (2.5 s) after it.
  const deadlineAt = Date.now();
  await counts.closed(3);
  t.true(Date.now() - deadlineAt < 1_000, 'the retry left hanging by the peer was closed at the deadline');
});
