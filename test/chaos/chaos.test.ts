/** The fault suite at small scale (1,000 visits, 3 s endpoint outage, 500 bad bodies), each scenario a test. */
import test from 'ava';
import { QUICK } from './run.ts';
import { failed, SCENARIOS } from './scenarios.ts';

for (const scenario of SCENARIOS) {
  test.serial(`fault suite: ${scenario.name}`, async (t) => {
    const result = await scenario(QUICK);
    t.log(
      `${result.scenario}: sent ${result.sent}, written ${result.written}, rewrites ${result.rewrites}, dead-lettered ${result.deadLettered}, lost ${result.lost}; ${result.notes}`,
    );
    t.is(result.failure, undefined, result.failure);
    t.is(result.lost, 0, 'nothing lost');
    if (!result.rewritesAllowed) t.is(result.rewrites, 0, 'no visit written twice where no process died');
    t.false(failed(result));
  });
}
