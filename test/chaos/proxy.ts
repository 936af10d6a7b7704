/**
 * Proxies on 127.0.0.1 in front of the SQS endpoint: a TCP one to take the endpoint away and bring
 * it back (OutageProxy), an HTTP one that answers as a faulty endpoint would (FaultProxy).
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, request as httpRequest, type ServerResponse } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '../support/sqs.ts';

export class OutageProxy {
  readonly port: number;
  readonly #target: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  #frozen = false;

  private constructor(port: number, target: number) {
    this.port = port;
    this.#target = target;
  }

  static async start(target: number): Promise<OutageProxy> {
    const proxy = new OutageProxy(await freePort(), target);
    await proxy.up();
    return proxy;
  }

  /** Accepts and forwards connections. */
  async up(): Promise<void> {
    const server = createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => client.destroy());
      if (this.#frozen) {
        this.#blackHole(client);
        return;
      }
      const upstream = connect(this.#target, '127.0.0.1');
      this.#sockets.add(upstream);
      upstream.on('close', () => this.#sockets.delete(upstream));
      upstream.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      this.#pairs.add({ client, upstream });
      client.on('close', () => {
        for (const pair of this.#pairs) if (pair.client === client) this.#pairs.delete(pair);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }

  /**
   * The network freezes without closing anything (a NAT that lost its state): open connections
   * stop forwarding in both directions and stay open for ever (half-open); new connections are
   * accepted and never answered. Nothing is closed, so only a deadline can notice.
   */
  freeze(): void {
    this.#frozen = true;
    for (const { client, upstream } of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      this.#blackHole(client);
      this.#blackHole(upstream);
    }
    this.#pairs.clear();
  }

  /** New connections forward again; the ones frozen stay dead, as after a NAT lost its state. */
  thaw(): void {
    this.#frozen = false;
  }

  /** Reads and drops whatever arrives, answers nothing, never closes. */
  #blackHole(socket: Socket): void {
    socket.removeAllListeners('data');
    socket.on('data', () => {});
    socket.resume();
  }

  /** Refuses new connections and cuts the open ones, as a network outage does. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** What the fault proxy does with one SQS call. */
export type Fault =
  /** Passed through. */
  | { kind: 'forward' }
  /** Passed through; the JSON answer changed on its way back. */
  | { kind: 'rewrite'; change: (answer: Record<string, unknown>) => Record<string, unknown> }
  /** Passed through (the endpoint carries it out); the answer is lost: the connection is cut instead. */
  | { kind: 'lose' }
  /** Never passed on, never answered; the connection stays open until the caller gives up. */
  | { kind: 'hang' }
  /** Passed through; a 200 answer of `bytes` bytes instead of the real one, or one that never ends. */
  | { kind: 'huge'; bytes: number };

/** Which fault an SQS call gets: by its X-Amz-Target and how many calls of that target came before (1-based). */
export type FaultPlan = (target: string, n: number) => Fault;

/**
 * An HTTP proxy on 127.0.0.1 in front of the SQS endpoint that answers as a faulty endpoint (or
 * anything between the processor and it) might: answers too large or without end, answers that
 * name no entries, answers lost after the call was carried out, calls that hang. It counts the
 * faults it applied, by target.
 */
export class FaultProxy {
  readonly port: number;
  readonly applied: Record<string, number> = {};
  readonly #server: ReturnType<typeof createHttpServer>;
  readonly #calls: Record<string, number> = {};

  private constructor(server: ReturnType<typeof createHttpServer>, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number, plan: FaultPlan): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? 'query');
        const calls = proxy!.#calls;
        calls[target] = (calls[target] ?? 0) + 1;
        const fault = plan(target, calls[target]);
        if (fault.kind !== 'forward') proxy!.applied[`${target}:${fault.kind}`] = (proxy!.applied[`${target}:${fault.kind}`] ?? 0) + 1;
        if (fault.kind === 'hang') return;
        const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (part: Buffer) => parts.push(part));
          answer.on('end', () => respond(res, fault, answer.statusCode ?? 502, answer.headers, Buffer.concat(parts)));
        });
        upstream.on('error', () => res.destroy());
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FaultProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Stops accepting calls and cuts the open ones (hanging ones included). */
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function respond(res: ServerResponse, fault: Fault, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
  if (fault.kind === 'lose') {
    res.socket?.destroy();
    return;
  }
  if (fault.kind === 'huge') {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.write('{"Messages":[{"MessageId":"huge","ReceiptHandle":"h","Body":"');
    const chunk = Buffer.alloc(1_048_576, 'a');
    let left = fault.bytes;
    // Written as fast as it is read, until the bytes are out (never, for Infinity) or the reader hangs up.
    const pump = () => {
      while (!res.destroyed && left > 0) {
        left -= chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}]}');
    };
    pump();
    return;
  }
  let text = body;
  if (fault.kind === 'rewrite' && status === 200) text = Buffer.from(JSON.stringify(fault.change(JSON.parse(body.toString()))));
  const { 'content-length': _, 'transfer-encoding': __, connection: ___, ...rest } = headers;
  res.writeHead(status, { ...rest, 'content-length': String(text.length) });
  res.end(text);
}
