/**
 * The agent's answers, in the proxy-integration shape both API Gateway payload versions
 * accept (and that a direct invoke prints as it is).
 */
import type { AgentRejection } from './rejection.ts';
import { ALLOW_HEADER } from './request.ts';

export interface AgentResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // A visit is an event, not a resource: no cache may answer for the agent.
  'cache-control': 'no-store',
} as const;

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): AgentResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** 202: the visit is on the queue; it is stored asynchronously. */
export function accepted(visitId: string): AgentResponse {
  return json(202, { visit_id: visitId });
}

/** 400 or 413 with `{ error, details }`. */
export function rejected(rejection: AgentRejection): AgentResponse {
  const headers: Record<string, string> = rejection.error === 'method_not_allowed' ? { allow: ALLOW_HEADER } : {};
  return json(rejection.status, { error: rejection.error, details: rejection.details }, headers);
}

/** The public text of an enqueue failure: says what to do, never why (that goes to the log). */
export const ENQUEUE_FAILED_DETAILS = 'the visit could not be recorded; retry later';

/** 500: nothing about the cause, which is logged instead. */
export function enqueueFailed(): AgentResponse {
  return json(500, { error: 'internal_error', details: ENQUEUE_FAILED_DETAILS });
}

/** 204 to an allowed site's CORS preflight. */
export function preflightAnswer(headers: Readonly<Record<string, string>>): AgentResponse {
  return { statusCode: 204, headers: { 'cache-control': 'no-store', ...headers }, body: '' };
}

/** The same answer with more headers (CORS); the answer itself when there are none. */
export function withHeaders(response: AgentResponse, headers: Readonly<Record<string, string>>): AgentResponse {
  return Object.keys(headers).length === 0 ? response : { ...response, headers: { ...response.headers, ...headers } };
}
