/**
 * The url rule of the contract, by allow-list: a url is accepted only when it parses as
 * http: or https: with a host. A bare host (`test.com`, `www.example.org/path`), as the
 * original recipes send it, is read as http://; but anything that could be read as a scheme
 * (`javascript:1/x`, `test.com:8080`) is parsed as one, never taken for a host.
 * Reasons name the rule, never the value.
 */
import { isIP } from 'node:net';
import { LIMITS } from './limits.ts';
import { SQS_TEXT_RULE, isSqsText } from './sqs-text.ts';

/** What the WHATWG parser (and every browser) reads as a scheme: an ASCII letter, then letters, digits, + . -, then a colon. */
const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** The only absolute forms accepted, spelled out: the scheme in any case, then `//`. */
const HTTP_PREFIX = /^https?:\/\//i;
/**
 * Whitespace, control and invisible format characters anywhere: browsers strip or ignore some
 * of them (`java\tscript:`), so a value carrying them does not mean what it shows.
 */
const HIDDEN = /[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Characters that change how an authority is read (credentials, escapes, alternative slashes). */
const AUTHORITY_TRAPS = /[@%\\]/;
/** A bare host: letters (any script), digits, dots and hyphens; no port (that needs http://). */
const BARE_HOST = /^[\p{L}\p{N}.-]+$/u;
/** The host part of an absolute url: a name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const ABSOLUTE_AUTHORITY = /^(?:[\p{L}\p{N}.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/u;
/** A DNS host name after IDNA (what `URL.hostname` gives): labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/;

/** The authority of a url without its scheme: everything up to the first / ? or #. */
function authorityOf(rest: string): string {
  const end = rest.search(/[/?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}

/** Checks a url; returns the rule it breaks, or undefined when it is an http(s) url or a bare host. */
export function checkUrl(url: string): string | undefined {
  if (url.length === 0) return 'url is empty';
  if (url.length > LIMITS.urlLength) return `url is longer than ${LIMITS.urlLength} characters`;
  if (!isSqsText(url)) return `url contains a character outside ${SQS_TEXT_RULE}`;
  if (HIDDEN.test(url)) return 'url contains whitespace, control or invisible formatting characters';
  if (url.includes('\\')) return 'url contains a backslash';

  const absolute = SCHEME_PREFIX.test(url);
  if (absolute && !HTTP_PREFIX.test(url)) {
    return 'url has a scheme other than http:// or https:// (a host with a port needs http://)';
  }
  const rest = absolute ? url.replace(HTTP_PREFIX, '') : url;
  const authority = authorityOf(rest);
  if (authority.length === 0) return 'url has no host';
  if (AUTHORITY_TRAPS.test(authority)) return 'url host part contains @, % or \\ (credentials or escapes)';
  if (!(absolute ? ABSOLUTE_AUTHORITY : BARE_HOST).test(authority)) {
    return absolute ? 'url host part is not a host name or IP address with an optional port' : 'url is neither an http(s) url nor a bare host name';
  }

  let parsed: URL;
  try {
    parsed = new URL(absolute ? url : `http://${url}`);
  } catch {
    return 'url does not parse as an http(s) url';
  }
  // Belt and braces: the parser must agree with the checks above.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'url does not parse as an http(s) url';
  if (parsed.username !== '' || parsed.password !== '') return 'url must not carry credentials';
  const host = parsed.hostname;
  const unbracketed = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(unbracketed) === 0 && !HOST_NAME.test(host)) return 'url host is not a valid host name';
  return undefined;
}
