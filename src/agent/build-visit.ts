/**
 * Turns a request into the message the agent enqueues: picks the type's extra field from the
 * right source, stamps `created_at` and `visit_id`, and checks the result with the contract's
 * own checks, the code the processor runs on every message it receives: each field first (so
 * an oversized parameter is named as such), then the body as SQS will see it. Pure.
 */
import { ACCEPTED_TYPE_NAMES, resolveVisitType, type ExtraField } from '../contract/visit-types.ts';
import { checkBodyText, toVisitBody, validateVisitBody, type Visit, type VisitBody } from '../contract/visit.ts';
import { badRequest, tooLarge, type AgentRejection } from './rejection.ts';
import type { AgentRequest } from './request.ts';

export interface Stamp {
  readonly visitId: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

export type BuildResult =
  | { readonly ok: true; readonly visit: Visit /** The JSON message body. */; readonly body: string }
  | { readonly ok: false; readonly rejection: AgentRejection };

/** A value for the type's extra field and where it came from, or why there is none. */
type Picked = { readonly value: string; readonly source: string } | { readonly value?: undefined; readonly missing: string };

/**
 * Where each extra field comes from. The platform's source IP wins over the client's `ip`,
 * which is believed only when there is no request context (a direct invoke).
 */
function pickExtraField(field: ExtraField, typeName: string, request: AgentRequest): Picked {
  switch (field) {
    case 'ip':
      if (request.hasRequestContext) {
        return request.sourceIp !== undefined
          ? { value: request.sourceIp, source: 'ip taken from the request context' }
          : { missing: `${typeName} visits need an ip, and the request context has no source IP` };
      }
      return request.params.ip !== undefined
        ? { value: request.params.ip, source: 'ip taken from the ip parameter' }
        : { missing: `${typeName} visits need an ip: add it to queryStringParameters (a direct invoke has no request context to take it from)` };
    case 'url':
      if (request.params.url !== undefined) return { value: request.params.url, source: 'url taken from the url parameter' };
      if (request.referer !== undefined) return { value: request.referer, source: 'url taken from the Referer header' };
      return { missing: `${typeName} visits need a url: pass the url parameter or send a Referer header` };
  }
}

export function buildVisit(request: AgentRequest, stamp: Stamp): BuildResult {
  const type = request.params.type;
  if (type === undefined) {
    return { ok: false, rejection: badRequest('missing_field', `type is missing: expected one of ${ACCEPTED_TYPE_NAMES.join(', ')}`) };
  }
  const draft: VisitBody = { type, created_at: stamp.createdAt, visit_id: stamp.visitId };
  let source: string | undefined;
  const definition = resolveVisitType(type);
  // An unknown type goes to the contract as it is, so the reason is the contract's own.
  if (definition) {
    const picked = pickExtraField(definition.extraField, type, request);
    if (picked.value === undefined) return { ok: false, rejection: badRequest('missing_field', picked.missing) };
    draft[definition.extraField] = picked.value;
    source = picked.source;
  }

  const parsed = validateVisitBody(draft, stamp.visitId);
  if (!parsed.ok) {
    const { code, message } = parsed.rejection;
    const hint = source !== undefined && (code === 'invalid_ip' || code === 'invalid_url') ? ` (${source})` : '';
    return { ok: false, rejection: badRequest(code, `${message}${hint}`) };
  }
  const body = JSON.stringify(toVisitBody(parsed.visit));
  const text = checkBodyText(body);
  if (text) return { ok: false, rejection: text.code === 'body_too_large' ? tooLarge(text.message) : badRequest(text.code, text.message) };
  return { ok: true, visit: parsed.visit, body };
}
