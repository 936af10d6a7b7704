/**
 * Placeholder logic for an invoked actor that the processor (or a test) must provide with
 * `.provide()`. Typed like the real actor so the machine's events and guards are checked.
 */
import { fromPromise, type PromiseActorLogic } from 'xstate';

export function notProvided<Output, Input>(name: string): PromiseActorLogic<Output, Input> {
  return fromPromise<Output, Input>(async () => {
    throw new Error(`actor ${name} was not provided`);
  });
}
