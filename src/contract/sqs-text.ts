/**
 * What SQS accepts in a message body: only these Unicode characters. A body with any other
 * (U+FFFF, a lone surrogate, most C0 controls) is refused by SendMessage, so the contract
 * refuses it first, as a client error with its reason, instead of a failed send.
 */
export const SQS_TEXT_RULE = "SQS's allowed characters (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF)";

/** Anything outside the allowed set; with the `u` flag a lone surrogate is one code point and matches too. */
const OUTSIDE_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** True when SQS would accept `text` as (part of) a message body. */
export function isSqsText(text: string): boolean {
  return !OUTSIDE_SQS_TEXT.test(text);
}
