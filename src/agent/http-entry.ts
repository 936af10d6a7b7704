/**
 * The agent over HTTP on this machine: each request becomes the event a Lambda function URL
 * produces and goes to the same handler that runs on AWS. It also serves the page script
 * (`/traffic.js`) and a demo page (`/demo`), which on AWS a site hosts itself.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AgentHandler } from './agent.ts';
import { functionUrlEvent, plainIp } from './function-url-event.ts';
import type { AgentResponse } from './responses.ts';

/** Read no further: a visit is a few hundred bytes, and the handler refuses over 8 KiB itself. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** The deadline the handler sees, as the deployed function's timeout gives it. */
const INVOCATION_TIMEOUT_MS = 5_000;
/** A client that stalls mid-request is dropped. */
const REQUEST_TIMEOUT_MS = 10_000;

const TRACKER = new URL('../tracker/traffic.js', import.meta.url);
const DEMO_PAGE = new URL('../tracker/demo.html', import.meta.url);

export interface AgentEntry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface AgentEntryOptions {
  readonly port: number;
  readonly host?: string;
  readonly handler: AgentHandler;
  /** Told of a request the handler could not answer (it threw). */
  readonly onError?: (error: unknown) => void;
}

function send(response: ServerResponse, answer: AgentResponse): void {
  response.writeHead(answer.statusCode, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  response.end(answer.body);
}

function jsonAnswer(statusCode: number, error: string, details: string): AgentResponse {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify({ error, details }) };
}

/** The body, or undefined when it is over the cap (the rest is not read). */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (declared > MAX_REQUEST_BYTES) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        request.removeAllListeners('data');
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function invoke(handler: AgentHandler, request: IncomingMessage, body: Buffer): Promise<AgentResponse> {
  const requestId = randomUUID();
  const deadline = Date.now() + INVOCATION_TIMEOUT_MS;
  const event = functionUrlEvent({
    method: request.method ?? 'GET',
    target: request.url ?? '/',
    headers: request.headers,
    body,
    sourceIp: plainIp(request.socket.remoteAddress ?? ''),
    host: request.headers.host ?? '',
    requestId,
    timeEpoch: Date.now(),
  });
  return handler(event, { awsRequestId: requestId, getRemainingTimeInMillis: () => deadline - Date.now() });
}

export async function startAgentEntry(options: AgentEntryOptions): Promise<AgentEntry> {
  const [tracker, demo] = await Promise.all([readFile(TRACKER), readFile(DEMO_PAGE)]);
  const staticFiles: Record<string, { body: Buffer; type: string }> = {
    '/traffic.js': { body: tracker, type: 'text/javascript; charset=utf-8' },
    '/demo': { body: demo, type: 'text/html; charset=utf-8' },
  };

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const file = request.method === 'GET' ? staticFiles[path] : undefined;
    if (file !== undefined) {
      response.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-cache' });
      response.end(file.body);
      return;
    }
    readBody(request)
      .then((body) => {
        if (body === undefined) {
          response.setHeader('connection', 'close');
          return jsonAnswer(413, 'body_too_large', `the request is over ${MAX_REQUEST_BYTES} bytes`);
        }
        return invoke(options.handler, request, body);
      })
      .catch((error: unknown) => {
        options.onError?.(error);
        return jsonAnswer(500, 'internal_error', 'the visit could not be recorded; retry later');
      })
      .then((answer) => send(response, answer));
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
