/** Property-based: any body, however odd, gets a verdict — a visit or a rejection with a known code — and never throws. */
import test from 'ava';
import fc from 'fast-check';
import { LIMITS } from '../../src/contract/limits.ts';
import { parseVisitBody, type RejectionCode } from '../../src/contract/visit.ts';

const CODES: ReadonlySet<RejectionCode> = new Set([
  'body_too_large',
  'invalid_character',
  'malformed_json',
  'schema_violation',
  'unexpected_field',
  'invalid_type',
  'invalid_ip',
  'invalid_url',
  'invalid_visit_id',
]);

/** Bodies near the contract: right keys, wrong or odd values, extra keys including __proto__. */
const nearVisit = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom('type-in', 'direct', 'referrer', 'Referrer', '', '__proto__', 'constructor'), fc.string(), fc.integer()),
      created_at: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.constant(1_764_000_000_000)),
      ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ unit: 'grapheme' }), fc.integer()),
      url: fc.oneof(fc.webUrl(), fc.domain(), fc.string({ unit: 'binary' }), fc.constantFrom('javascript:alert(1)', 'data:,x')),
      visit_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 300 })),
      __proto__: fc.object(),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));

const bodies = fc.oneof(
  nearVisit,
  fc.json(),
  fc.string({ unit: 'binary', maxLength: 2_000 }),
  fc.string({ unit: 'grapheme', minLength: LIMITS.bodyBytes - 10, maxLength: LIMITS.bodyBytes + 10 }),
  fc.jsonValue().map((v) => JSON.stringify({ type: 'referrer', created_at: 1_764_000_000_000, url: 'test.com', pad: v })),
);

test('10,000 random bodies: each gets a visit or a rejection with a known code and a bounded reason', (t) => {
  let rejected = 0;
  fc.assert(
    fc.property(bodies, (body) => {
      const result = parseVisitBody(body, 'msg-1');
      if (result.ok) {
        return ['type-in', 'referrer'].includes(result.visit.type) && Number.isSafeInteger(result.visit.createdAt);
      }
      rejected += 1;
      return CODES.has(result.rejection.code) && result.rejection.message.length > 0 && result.rejection.message.length <= 300;
    }),
    { numRuns: 10_000, seed: 20261124 },
  );
  t.true(rejected > 9_000, `most random bodies are rejected (${rejected})`);
});

test('a __proto__ key never pollutes Object.prototype', (t) => {
  parseVisitBody('{"type":"referrer","created_at":1764000000000,"__proto__":{"polluted":true}}', 'm');
  t.is(({} as Record<string, unknown>).polluted, undefined);
});
