/**
 * Which browsers may send visits. CORS headers alone protect nothing here: `sendBeacon`'s
 * text/plain POST and an image's GET are simple requests that browsers send without asking,
 * so the agent refuses a request from a site that is not allowed before it reads the visit.
 * Requests no browser page made (curl, servers, a direct invoke) carry no Origin and pass:
 * they could claim any origin anyway, and their ip comes from the platform. Pure.
 */
import type { BrowserFacts } from './request.ts';
import { methodNotAllowed, originNotAllowed, type AgentRejection } from './rejection.ts';

/** How long a browser may cache a preflight's answer (a day). */
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;
const PREFLIGHT_METHODS = 'POST, GET';
const PREFLIGHT_HEADERS = 'content-type';

export type CorsDecision =
  /** Go on with the visit; these headers join the answer. */
  | { readonly kind: 'pass'; readonly headers: Readonly<Record<string, string>> }
  /** A preflight from an allowed site: answer 204 with these headers, enqueue nothing. */
  | { readonly kind: 'preflight'; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'refuse'; readonly rejection: AgentRejection };

/** `scheme://host[:port]` as a browser sends it, or undefined for anything else (including `null`). */
export function normaliseOrigin(value: string): string | undefined {
  if (!/^https?:\/\/[^/?#\s]+$/i.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

const PASS: CorsDecision = { kind: 'pass', headers: {} };

export function decideCors(facts: BrowserFacts | undefined, allowedOrigins: ReadonlySet<string>): CorsDecision {
  // A direct invoke has no browser behind it.
  if (facts === undefined || facts.kind === 'direct') return PASS;
  const isPreflight = facts.method === 'OPTIONS';
  if (facts.origin === undefined) {
    if (isPreflight) return { kind: 'refuse', rejection: methodNotAllowed('OPTIONS is answered only as a CORS preflight, with an Origin header') };
    // Another site's page made this request (an image or a link) and its browser kept the Origin back.
    if (facts.fetchSite === 'cross-site' || facts.fetchSite === 'same-site') {
      return { kind: 'refuse', rejection: originNotAllowed('a request from another site must carry an allowed Origin') };
    }
    return PASS;
  }
  const origin = normaliseOrigin(facts.origin);
  if (origin === undefined || !allowedOrigins.has(origin)) {
    return { kind: 'refuse', rejection: originNotAllowed('this site is not allowed to send visits (AGENT_ALLOWED_ORIGINS)') };
  }
  const allow = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (!isPreflight) return { kind: 'pass', headers: allow };
  if (facts.preflightMethod !== 'POST' && facts.preflightMethod !== 'GET') {
    return { kind: 'refuse', rejection: methodNotAllowed('a preflight may ask for POST or GET only') };
  }
  return {
    kind: 'preflight',
    headers: {
      ...allow,
      'access-control-allow-methods': PREFLIGHT_METHODS,
      'access-control-allow-headers': PREFLIGHT_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    },
  };
}
