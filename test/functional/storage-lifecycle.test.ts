/**
 * The real processor (`src/processor/main.ts`, embedded SQS) uses its storage adapter's lifecycle:
 * storage is ready before the processor starts receiving, and closed after it has stopped.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';

test('storage is ready before the processor starts, and closed after it stops', async (t) => {
  const child = spawn(process.execPath, ['src/processor/main.ts'], {
    env: { ...process.env, LOG_JSON: '1', EMBEDDED_SQS_PORT: '0', AGENT_PORT: '0', METRICS_PORT: '0', RECEIVE_WAIT_SECONDS: '1', STORAGE_BACKEND: 'cassandra' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  t.teardown(() => clearTimeout(killer));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const messages: string[] = [];
  const backends = new Map<string, string | undefined>();
  for await (const line of createInterface({ input: child.stdout! })) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg: string; backend?: string };
    messages.push(entry.msg);
    backends.set(entry.msg, entry.backend);
    // Stopped once it runs: the event that says so, not a wait.
    if (entry.msg === 'processor starting') child.kill('SIGTERM');
  }
  t.is(await exited, 0);
  const at = (msg: string) => messages.indexOf(msg);
  t.true(at('storage ready') >= 0, messages.join(' | '));
  t.true(at('storage ready') < at('processor starting'), 'ready before the processor starts');
  t.true(at('processor stopped') >= 0);
  t.true(at('storage closed') > at('processor stopped'), 'closed after the processor stopped');
  t.is(backends.get('storage ready'), 'cassandra', 'the configured adapter');
  t.is(backends.get('storage closed'), 'cassandra');
});
