/**
 * Debugging aids, both opt-in: the Stately inspector (imported only when asked for, so it
 * costs nothing otherwise; its page loads the inspector from stately.ai, so it needs internet)
 * and an offline trace of actor events as JSON lines (idle polls left out unless --trace-all).
 */
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { createIdlePollFilter } from './trace-filter.ts';

export interface DebugOptions {
  readonly inspect: boolean;
  readonly traceFile: string | undefined;
  /** Trace every event, the pollers' idle polls included. */
  readonly traceAll: boolean;
  readonly inspectPort: number;
}

/** An option that cannot start: the process stops with this one line. */
export class DebugOptionError extends Error {
  override name = 'DebugOptionError';
}

/** Opens the trace file now, so a bad path stops the start with one line instead of an 'error' event later. */
async function openTraceFile(file: string) {
  try {
    return await open(file, 'w');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : code;
    throw new DebugOptionError(`--trace ${file}: cannot open the file for writing (${why})`);
  }
}

/**
 * Checks that the inspector's port is free: the inspector's server listens without an error
 * handler, so a busy port would otherwise crash the process after start-up said it was ready.
 */
async function checkPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : (error.code ?? 'cannot listen');
      reject(new DebugOptionError(`--inspect=${port}: cannot serve the inspector (${why}); choose a free port with --inspect=PORT`));
    });
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

export interface Inspection {
  readonly inspect: ((event: InspectionEvent) => void) | undefined;
  close(): Promise<void>;
}

/** Reads `--inspect`, `--trace FILE` and `--trace-all` from the command line; anything else is an error. */
export function parseDebugArgs(args: readonly string[]): DebugOptions {
  let inspect = false;
  let traceAll = false;
  // 8080 is npm start's agent entry.
  let inspectPort = 8081;
  let traceFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--inspect') inspect = true;
    else if (arg.startsWith('--inspect=')) {
      inspect = true;
      inspectPort = Number(arg.slice('--inspect='.length));
      if (!Number.isInteger(inspectPort) || inspectPort < 1 || inspectPort > 65_535) throw new Error('--inspect=PORT needs a port from 1 to 65535');
    } else if (arg === '--trace-all') traceAll = true;
    else if (arg === '--trace') {
      traceFile = args[++i];
      if (!traceFile) throw new Error('--trace needs a file name: --trace FILE');
    } else if (arg.startsWith('--trace=')) {
      traceFile = arg.slice('--trace='.length);
      if (!traceFile) throw new Error('--trace= needs a file name: --trace=FILE');
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}: expected --inspect[=PORT], --trace FILE or --trace-all`);
  }
  if (traceAll && !traceFile) throw new Error('--trace-all keeps every event of a trace: add --trace FILE');
  return { inspect, inspectPort, traceFile, traceAll };
}

function actorId(ref: { id?: string; sessionId?: string } | undefined): string | undefined {
  return ref ? (ref.id ?? ref.sessionId) : undefined;
}

export async function startInspection(options: DebugOptions, logger: Logger): Promise<Inspection> {
  const sinks: Array<(event: InspectionEvent) => void> = [];
  const closers: Array<() => Promise<void>> = [];

  if (options.inspect) await checkPortFree(options.inspectPort);
  if (options.traceFile) {
    const file = options.traceFile;
    const out = (await openTraceFile(file)).createWriteStream();
    let failed = false;
    // A write that fails later (disk full) ends tracing with one log line; the processor goes on.
    out.on('error', (error: NodeJS.ErrnoException) => {
      if (!failed) logger.error({ file, err: error.code ?? error.message }, 'trace file write failed; tracing stopped');
      failed = true;
    });
    const keep = options.traceAll ? () => true : createIdlePollFilter();
    sinks.push((event) => {
      if (failed || !keep(event)) return;
      const line: Record<string, unknown> = { t: Date.now(), kind: event.type, actor: actorId(event.actorRef) };
      if (event.type === '@xstate.event') {
        line.event = event.event.type;
        line.source = actorId(event.sourceRef);
      } else if (event.type === '@xstate.snapshot') {
        line.event = event.event.type;
        line.state = (event.snapshot as { value?: unknown }).value;
        line.status = event.snapshot.status;
      } else if (event.type === '@xstate.microstep') {
        line.event = event.event.type;
      } else if (event.type === '@xstate.action') {
        line.action = event.action.type;
      }
      out.write(`${JSON.stringify(line)}\n`);
    });
    closers.push(() => new Promise((resolve) => (failed ? resolve() : out.end(resolve))));
    logger.info(
      { file, traceAll: options.traceAll },
      options.traceAll ? 'tracing every actor event to file' : 'tracing actor events to file, idle polls left out (--trace-all keeps them)',
    );
  }

  if (options.inspect) {
    const port = options.inspectPort;
    const [{ createWebSocketInspector }, { createInspectorServer }] = await Promise.all([
      import('@statelyai/inspect'),
      import('@statelyai/inspect/server'),
    ]).catch((error: NodeJS.ErrnoException) => {
      // A development package: a production install (`npm ci --omit=dev`) leaves it out.
      if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
      throw new DebugOptionError(
        '--inspect needs the development package @statelyai/inspect, which this install leaves out: run npm ci (without --omit=dev), or drop --inspect',
      );
    });
    // The relay serves the inspector page and forwards our events to it over a WebSocket.
    const server = createInspectorServer({ port, autoOpen: false });
    const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
    sinks.push((event) => inspector.inspect.next?.(event));
    closers.push(async () => {
      inspector.stop();
      server.stop();
    });
    logger.info(
      { url: `http://localhost:${port}` },
      `XState inspector: open http://localhost:${port} in a browser to watch the actors live; the page loads the inspector from stately.ai and needs internet access (offline, use --trace FILE)`,
    );
  }

  return {
    inspect:
      sinks.length === 0
        ? undefined
        : (event) => {
            for (const sink of sinks) sink(event);
          },
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
