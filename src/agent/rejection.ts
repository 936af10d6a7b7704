/** Why the agent refuses a request: the HTTP status and the `{ error, details }` body it answers with. */
import type { RejectionCode } from '../contract/visit.ts';

/** The contract's codes, plus the ones only a request (not a message body) can earn. */
export type AgentErrorCode = RejectionCode | 'invalid_event' | 'method_not_allowed' | 'missing_field' | 'origin_not_allowed';

export interface AgentRejection {
  readonly status: 400 | 403 | 405 | 413;
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

/** 405: the entry takes GET with a query string, POST with a body and CORS preflights. */
export function methodNotAllowed(details: string): AgentRejection {
  return { status: 405, error: 'method_not_allowed', details };
}

/** 403: a browser on a site that is not allowed to send visits (AGENT_ALLOWED_ORIGINS). */
export function originNotAllowed(details: string): AgentRejection {
  return { status: 403, error: 'origin_not_allowed', details };
}
