/**
 * A variable that looks like a knob but is not read (a misspelling, or a knob that is now a
 * constant) is named in one warning line when the real processor starts: otherwise a typo
 * would silently leave the default in place.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';

test('npm start names misspelt and removed knobs in one warning line, and still starts', async (t) => {
  const child = spawn(process.execPath, ['src/processor/main.ts'], {
    env: {
      ...process.env,
      LOG_JSON: '1',
      EMBEDDED_SQS_PORT: '0',
      AGENT_PORT: '0',
      RECEIVE_WAIT_SECONDS: '1',
      BATCHSIZE: '5',
      WRITE_CONCURENCY: '2',
      HEARTBEAT_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const warnings: string[] = [];
  let started = false;
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg: string; level: number };
    if (entry.level === 40 && entry.msg.startsWith('environment variables ignored')) warnings.push(entry.msg);
    if (entry.msg === 'processor starting') {
      started = true;
      break;
    }
  }
  lines.close();
  child.stdout!.resume();
  child.kill('SIGTERM');
  t.is(await exited, 0);
  t.true(started, 'the processor started anyway');
  t.is(warnings.length, 1, 'one line');
  t.regex(warnings[0] ?? '', /BATCHSIZE \(did you mean BATCH_SIZE\?\)/);
  t.regex(warnings[0] ?? '', /WRITE_CONCURENCY \(did you mean WRITE_CONCURRENCY\?\)/);
  t.regex(warnings[0] ?? '', /no longer read, now a constant \(src\/processor\/config\/tuning.ts\): HEARTBEAT_SECONDS$/);
});
