/**
 * The agent's request path: read the event, build and check the visit, enqueue it, answer.
 * Everything with side effects (the queue, the clock, ids, the log) is passed in, so the
 * same function runs in Lambda, in the local invoke, in the load generator and in tests.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { VisitTypeName } from '../contract/visit-types.ts';
import { buildVisit } from './build-visit.ts';
import { decideCors } from './cors.ts';
import { readBrowserFacts, readRequest } from './request.ts';
import { accepted, enqueueFailed, ENQUEUE_FAILED_DETAILS, preflightAnswer, rejected, withHeaders, type AgentResponse } from './responses.ts';

/** One message for the PIPELINE. */
export interface OutgoingMessage {
  readonly body: string;
  readonly visitId: string;
  /** Also sent as the `visit_type` message attribute, so consumers can route without parsing. */
  readonly visitType: VisitTypeName;
}

/** Enqueues one message; rejects on failure; gives up when `signal` aborts. */
export type SendVisit = (message: OutgoingMessage, signal: AbortSignal | undefined) => Promise<void>;

/** The part of the Lambda context the agent uses (a real `Context` fits). */
export interface InvocationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

export type AgentHandler = (event: unknown, context?: InvocationContext) => Promise<AgentResponse>;

export interface AgentDependencies {
  readonly send: SendVisit;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly newVisitId?: (context: InvocationContext | undefined) => string;
  /** The sites whose pages may send visits; none when absent (requests without an Origin still pass). */
  readonly allowedOrigins?: ReadonlySet<string>;
}

/**
 * Thrown, instead of answering 500, when a direct invoke cannot be enqueued: a direct invoke
 * may be asynchronous, and only a thrown error makes Lambda retry it and then keep it in the
 * function's own dead-letter queue. Its message is as bare as the 500 body.
 */
export class EnqueueError extends Error {
  override name = 'EnqueueError';
  readonly statusCode = 500;
  constructor() {
    super(ENQUEUE_FAILED_DETAILS);
  }
}

/** Time kept back from the Lambda deadline so a slow queue still gets an answer, not a timeout. */
const DEADLINE_MARGIN_MS = 500;
const MIN_SEND_BUDGET_MS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Lambda request id when there is one: Lambda keeps it when it retries an asynchronous
 * invoke, so a retry after a lost acknowledgement carries the same visit_id and the processor's
 * upsert keeps it one row. Otherwise a fresh UUID.
 */
export function defaultVisitId(context: InvocationContext | undefined): string {
  const requestId = context?.awsRequestId;
  return requestId !== undefined && UUID.test(requestId) ? requestId.toLowerCase() : randomUUID();
}

/** The send, abandoned shortly before the Lambda deadline so the caller still gets an answer. */
async function sendBeforeDeadline(send: SendVisit, message: OutgoingMessage, context: InvocationContext | undefined): Promise<void> {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined || !Number.isFinite(remaining)) return send(message, undefined);
  const controller = new AbortController();
  const budget = Math.max(MIN_SEND_BUDGET_MS, remaining - DEADLINE_MARGIN_MS);
  const timer = setTimeout(() => controller.abort(new Error(`SQS did not answer within ${budget} ms`)), budget);
  try {
    await send(message, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

export function createAgent(dependencies: AgentDependencies): AgentHandler {
  const { send, logger } = dependencies;
  const now = dependencies.now ?? Date.now;
  const newVisitId = dependencies.newVisitId ?? defaultVisitId;
  const allowedOrigins = dependencies.allowedOrigins ?? new Set<string>();

  return async function handle(event, context) {
    const log = context?.awsRequestId !== undefined ? logger.child({ requestId: context.awsRequestId }) : logger;
    // Which site sent it comes first: a refused site's visit is not even read.
    const cors = decideCors(readBrowserFacts(event), allowedOrigins);
    if (cors.kind === 'preflight') return preflightAnswer(cors.headers);
    const corsHeaders = cors.kind === 'pass' ? cors.headers : {};
    const read = cors.kind === 'refuse' ? { ok: false as const, rejection: cors.rejection } : readRequest(event);
    const built = read.ok ? buildVisit(read.request, { visitId: newVisitId(context), createdAt: now() }) : read;
    if (!built.ok) {
      log.info({ status: built.rejection.status, error: built.rejection.error, details: built.rejection.details }, 'visit rejected');
      return withHeaders(rejected(built.rejection), corsHeaders);
    }

    const { visit } = built;
    try {
      await sendBeforeDeadline(send, { body: built.body, visitId: visit.visitId, visitType: visit.type }, context);
    } catch (error) {
      log.error({ err: error, visitId: visit.visitId, type: visit.type }, 'visit could not be enqueued');
      if (read.ok && !read.request.hasRequestContext) throw new EnqueueError();
      return withHeaders(enqueueFailed(), corsHeaders);
    }
    log.debug({ visitId: visit.visitId, type: visit.type }, 'visit enqueued');
    return withHeaders(accepted(visit.visitId), corsHeaders);
  };
}
