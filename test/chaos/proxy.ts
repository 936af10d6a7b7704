/** A TCP proxy on 127.0.0.1 in front of the SQS endpoint, to take the endpoint away and bring it back. */
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
