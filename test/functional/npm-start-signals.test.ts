/**
 * `kill -TERM <npm pid>` on `npm start` reaches the processor: npm forwards the signal to its
 * child, and the script execs node so that child is the processor, not a shell that dies alone
 * and leaves node orphaned and holding its port.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGTERM to the npm process stops the processor it started', async (t) => {
  const npm = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, EMBEDDED_SQS_PORT: '0', AGENT_PORT: '0', LOG_JSON: '1', RECEIVE_WAIT_SECONDS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const npmExit = new Promise<NodeJS.Signals | number | null>((resolve) => npm.on('exit', (code, signal) => resolve(signal ?? code)));
  let processorPid: number | undefined;
  t.teardown(() => {
    // Never leave an orphan behind, whatever the outcome.
    if (processorPid !== undefined && alive(processorPid)) process.kill(processorPid, 'SIGKILL');
  });
  const lines = createInterface({ input: npm.stdout! });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg: string; pid: number };
    if (entry.msg === 'processor starting') {
      processorPid = entry.pid;
      break;
    }
  }
  lines.close();
  npm.stdout!.resume();
  t.truthy(processorPid, 'the processor started');
  t.not(processorPid, npm.pid, 'npm and the processor are separate processes');

  npm.kill('SIGTERM');
  await npmExit;
  const deadline = Date.now() + 20_000;
  while (alive(processorPid!) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  t.false(alive(processorPid!), 'the processor exited with npm, not orphaned');
});
