/**
 * The browser tests' two real parts: `npm start` on the embedded default (its JSON lines read
 * as they come), and a headless Chromium that `npm ci` alone brings (@sparticuz/chromium ships
 * its binary in the package; no system browser is needed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type Browser } from 'playwright-core';

/** Flags of the package's set (made for Lambda) that would change what is tested (CORS, the Origin header) or end the browser with its first closed page. */
const NOT_WANTED = new Set(['--disable-web-security', '--allow-running-insecure-content', '--single-process']);

export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((arg) => !NOT_WANTED.has(arg)),
    headless: true,
  });
}

const WAIT_LIMIT_MS = 20_000;

export type LogLine = Record<string, unknown> & { msg: string };

export interface RunningStart {
  readonly child: ChildProcess;
  /** Every JSON line so far. */
  readonly lines: LogLine[];
  /** Resolves with the first line (past or future) that `match` accepts; rejects when the process exits first or after 20 s (a bound on failure, not a timing claim). */
  waitForLine(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  stop(): Promise<void>;
}

/** `npm start` with `env`, its output read line by line. */
export function npmStart(env: Record<string, string>): RunningStart {
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, LOG_JSON: '1', EMBEDDED_SQS_PORT: '0', AGENT_PORT: '0', RECEIVE_WAIT_SECONDS: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let exited = false;
  const exitWaiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    if (!text.startsWith('{')) return;
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
    for (const reject of exitWaiters) reject();
  });
  return {
    child,
    lines,
    waitForLine(match, what) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      if (exited) return Promise.reject(new Error(`npm start exited before ${what}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no line for ${what} within ${WAIT_LIMIT_MS} ms`));
        }, WAIT_LIMIT_MS);
        const waiter = {
          match,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        exitWaiters.add(() => {
          clearTimeout(timer);
          reject(new Error(`npm start exited before ${what}`));
        });
        waiters.add(waiter);
      });
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}

/** The rows of every `write` line for `table` so far. */
export function rowsWritten(lines: readonly LogLine[], table: string): Array<Record<string, unknown>> {
  return lines.filter((l) => l.msg === 'write' && l.table === table).flatMap((l) => l.rows as Array<Record<string, unknown>>);
}
