/**
 * The terminal path of the platform logger (pino-pretty), run in a child process as the processor
 * runs it: an entry is one line, fields included; an error is one line unless LOG_LEVEL shows stacks.
 */
import { spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import test from 'ava';

/** What the pretty logger prints for one retry warning with a nested error, at `level`. */
function prettyRetryWarning(level: string): string[] {
  const script = [
    "const { createLogger } = await import('./src/platform/logger.ts');",
    `const logger = createLogger({ name: 'traffic-processor', level: '${level}', pretty: true });`,
    "const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566', { cause: new Error('socket closed') }), { code: 'ECONNREFUSED' });",
    "logger.warn({ endpoint: 'http://127.0.0.1:4566', attempt: 2, retryInMs: 800, err }, 'SQS endpoint did not answer at start; retrying');",
  ].join('\n');
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (run.status !== 0) throw new Error(run.stderr);
  return stripVTControlCharacters(run.stdout).split('\n').filter(Boolean);
}

test('on a terminal at info, a retry warning with its error is one line naming the error, without a stack', (t) => {
  const lines = prettyRetryWarning('info');
  t.is(lines.length, 1, lines.join('\n'));
  t.regex(lines[0], /WARN \(traffic-processor\): SQS endpoint did not answer at start; retrying .*"attempt":2/);
  t.true(lines[0].includes('"err":"Error: connect ECONNREFUSED 127.0.0.1:4566; caused by socket closed"'), lines[0]);
  t.false(lines[0].includes('    at '), 'no stack frame');
});

test('on a terminal at debug, the same warning shows the stack', (t) => {
  const lines = prettyRetryWarning('debug');
  t.true(lines.length > 3, lines.join('\n'));
  t.true(
    lines.some((line) => /^\s+at /.test(line)),
    'a stack frame',
  );
});
