/** Why the agent refuses a request: the HTTP status and the `{ error, details }` body it answers with. */
import type { RejectionCode } from '../contract/visit.ts';

/** The contract's codes, plus the ones only a request (not a message body) can earn. */
export type AgentErrorCode = RejectionCode | 'invalid_event' | 'method_not_allowed' | 'missing_field';

export interface AgentRejection {
  readonly status: 400 | 413;
  /** Stable, machine-readable code. */
  readonly error: AgentErrorCode;
  /** One line for a person: what is wrong and, where it helps, how to fix it. */
  readonly details: string;
}

export function badRequest(error: AgentErrorCode, details: string): AgentRejection {
  return { status: 400, error, details };
}

export function tooLarge(details: string): AgentRejection {
  return { status: 413, error: 'body_too_large', details };
}
