/** Variables that look like knobs but are not read: misspellings and knobs that became constants. */
import test from 'ava';
import { AWS_VARIABLES, KNOBS, loadConfig } from '../../src/processor/config/config.ts';
import { editDistance, knobSuspects, knobWarning } from '../../src/processor/config/knob-spelling.ts';
import { REMOVED_KNOBS } from '../../src/processor/config/tuning.ts';

const suspects = (env: Record<string, string>) => knobSuspects(env, KNOBS, REMOVED_KNOBS);

test('misspellings are matched to the knob they likely mean', (t) => {
  const env = { BATCHSIZE: '5', BATCH_SIZ: '5', WRITE_CONCURENCY: '2', batch_size: '3', MAX_INFLIGHT: '9', VISIBILTY_TIMEOUT_SECONDS: '9', POLLER: '2' };
  t.deepEqual(suspects(env).misspelt, [
    ['BATCHSIZE', 'BATCH_SIZE'],
    ['BATCH_SIZ', 'BATCH_SIZE'],
    ['MAX_INFLIGHT', 'MAX_IN_FLIGHT'],
    ['POLLER', 'POLLERS'],
    ['VISIBILTY_TIMEOUT_SECONDS', 'VISIBILITY_TIMEOUT_SECONDS'],
    ['WRITE_CONCURENCY', 'WRITE_CONCURRENCY'],
    ['batch_size', 'BATCH_SIZE'],
  ]);
  t.deepEqual(suspects(env).removed, []);
});

test('removed knobs, and misspellings of them, are named as constants now', (t) => {
  const { misspelt, removed } = suspects({ HEARTBEAT_SECONDS: '1', RETRY_BASE_MS: '5', DEFER_SECOND: '3' });
  t.deepEqual(misspelt, []);
  t.deepEqual(removed, [
    ['DEFER_SECOND', 'DEFER_SECONDS'],
    ['HEARTBEAT_SECONDS', 'HEARTBEAT_SECONDS'],
    ['RETRY_BASE_MS', 'RETRY_BASE_MS'],
  ]);
});

test('knobs that are read, the AWS family and an ordinary environment raise nothing', (t) => {
  const env: Record<string, string> = {
    ...Object.fromEntries([...KNOBS, ...AWS_VARIABLES].map((name) => [name, '1'])),
    AWS_ENDPOINT_URL_SNS: 'x',
    AWS_ENDPOINT_URL_S3: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_PROFILE: 'x',
    PATH: '/usr/bin',
    HOME: '/root',
    USER: 'root',
    SHELL: '/bin/sh',
    TERM: 'xterm',
    LANG: 'C.UTF-8',
    HOSTNAME: 'h',
    NODE_ENV: 'production',
    NODE_OPTIONS: '',
    CI: '1',
    npm_config_loglevel: 'warn',
    npm_package_config_nodeFlags: 'x',
    TZ: 'UTC',
    PWD: '/',
    LOCALSTACK_AUTH_TOKEN: 'x',
  };
  t.deepEqual(suspects(env), { misspelt: [], removed: [] });
  t.is(knobWarning(suspects(env)), undefined);
});

test('one line names every suspect', (t) => {
  const line = knobWarning(suspects({ BATCHSIZE: '5', HEARTBEAT_SECONDS: '1', DEFER_SECOND: '3' }));
  t.is(
    line,
    'environment variables ignored: not read, misspelt? BATCHSIZE (did you mean BATCH_SIZE?); no longer read, now a constant (src/processor/config/tuning.ts): DEFER_SECOND (DEFER_SECONDS), HEARTBEAT_SECONDS',
  );
});

test('edit distance counts a transposition as one edit', (t) => {
  t.is(editDistance('BATCHSIZE', 'BATCHSIZE'), 0);
  t.is(editDistance('BTACHSIZE', 'BATCHSIZE'), 1);
  t.is(editDistance('BATCHSIZ', 'BATCHSIZE'), 1);
  t.is(editDistance('kitten', 'sitting'), 3);
  t.is(editDistance('abc', 'abcdef', 1), 2, 'past the limit it stops early');
});

test('KNOBS is every variable loadConfig reads, at most 20 with LOG_JSON, none of them a removed knob', (t) => {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_, name) {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  const own = [...read].filter((name) => !(AWS_VARIABLES as readonly string[]).includes(name)).sort();
  t.deepEqual(own, KNOBS.filter((name) => name !== 'LOG_JSON').sort(), 'LOG_JSON is read by the logger');
  t.true(KNOBS.length <= 20, `${KNOBS.length} knobs`);
  t.false(KNOBS.some((name) => REMOVED_KNOBS.includes(name)));
});

test('docs/operations.md lists in one table exactly the variables the processor reads', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('## Processor configuration'), text.indexOf('## Agent configuration'));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const listed = rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));
  t.deepEqual(listed.sort(), [...KNOBS, ...AWS_VARIABLES].sort());
});
