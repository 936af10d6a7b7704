/** The import boundaries npm test enforces: the real tree keeps them; each kind of crossing is reported. */
import test from 'ava';
import { checkFile, checkTree } from '../../scripts/check-boundaries.ts';

test('the project keeps its import boundaries', (t) => {
  const { problems, files } = checkTree('.');
  t.deepEqual(problems, []);
  t.true(files > 100, 'machines, src, scripts and test were read');
});

test('a machine importing an adapter, the SDK or a logger is reported', (t) => {
  const source = [
    "import { SqsQueue } from '../src/processor/sqs/queue.ts';",
    "import { SQSClient } from '@aws-sdk/client-sqs';",
    "import pino from 'pino';",
    "import type { VisitTypeName } from '../src/contract/visit-types.ts';",
    "import { setup } from 'xstate';",
    "import { backoffDelay } from './backoff.ts';",
  ].join('\n');
  const problems = checkFile('machines/poller.ts', source);
  t.is(problems.length, 3, problems.join('\n'));
  t.regex(
    problems[0],
    new RegExp(
      String.raw`^machines/poller\.ts imports '\.\./src/processor/sqs/queue\.ts': ` +
        String.raw`machines/ imports only from machines/, src/contract/, xstate \(the machines are pure`,
    ),
  );
  t.regex(problems[1], /imports '@aws-sdk\/client-sqs'/);
  t.regex(problems[2], /imports 'pino'/);
});

test('the contract importing a storage adapter or the processor is reported', (t) => {
  t.is(checkFile('src/contract/visit.ts', "import { createMysqlStorage } from '../processor/storage/mysql.ts';").length, 1);
  t.is(checkFile('src/contract/visit.ts', "export { loadConfig } from '../processor/config.ts';").length, 1, 're-exports count');
  t.deepEqual(checkFile('src/contract/visit.ts', "import { isIP } from 'node:net';\nimport { LIMITS } from './limits.ts';"), []);
});

test('src importing test or scripts code, statically or by import(), is reported; scripts importing test code too', (t) => {
  t.regex(checkFile('src/processor/main.ts', "import { freePort } from '../../test/support/sqs.ts';")[0], /src\/ imports nothing from test\/ or scripts\//);
  t.is(checkFile('src/agent/handler.ts', "const { runTraffic } = await import('../../scripts/traffic/run.ts');").length, 1);
  t.regex(checkFile('scripts/drain-burst.ts', "import { queueDepth } from '../test/support/sqs.ts';")[0], /scripts\/ imports nothing from test\//);
  t.deepEqual(checkFile('scripts/drain-burst.ts', "import { startProcessor } from '../src/processor/processor.ts';"), []);
  t.deepEqual(checkFile('test/functional/burst.test.ts', "import { makeBurst } from '../../scripts/support/burst.ts';"), [], 'tests may import anything');
});
