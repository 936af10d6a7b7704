/** The written-out field check accepts only what the runtypes shape accepts, and accepts the bodies agents send. */
import test from 'ava';
import fc from 'fast-check';
import { BodyShape, hasBodyShape, parseVisitBody } from '../../src/contract/visit.ts';

const field = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object(), fc.array(fc.string()));
// Each field is mostly of the right type, so about a fifth of the objects pass and the rest miss by one field.
const likely = <T>(right: fc.Arbitrary<T>) => fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: field, weight: 1 });
/** Values of the type a runtypes field asks for; a field of another kind must be taught here. */
function rightFor(name: string, field: { tag: string; underlying?: { tag: string } }): fc.Arbitrary<unknown> {
  const tag = field.tag === 'optional' ? field.underlying?.tag : field.tag;
  if (tag === 'string') return fc.string();
  if (tag === 'number') return fc.oneof(fc.integer(), fc.double());
  throw new Error(`BodyShape field ${name} is a ${tag}: add it here and to hasBodyShape`);
}
// The fields come from BodyShape itself, so one added there and not to hasBodyShape is tried too.
const nearBody = fc.record(Object.fromEntries(Object.entries(BodyShape.fields).map(([name, field]) => [name, likely(rightFor(name, field))])), {
  requiredKeys: [],
});

test('hasBodyShape never accepts what the runtypes shape refuses (20,000 objects near the contract)', (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(nearBody, fc.object()), (value) => {
      if (!hasBodyShape(value)) return true;
      accepted += 1;
      return BodyShape.guard(value);
    }),
    { numRuns: 20_000 },
  );
  t.true(accepted > 100, `only ${accepted} objects took the written-out path`);
});

test('the bodies agents send take the written-out path and parse as before', (t) => {
  const now = 1_764_000_000_000;
  const bodies = [
    { type: 'type-in', created_at: now, visit_id: 'v-1', ip: '10.0.0.1' },
    { type: 'direct', created_at: now, ip: '2001:db8::1' },
    { type: 'referrer', created_at: now, visit_id: 'v-2', url: 'https://example.com/a?b=c' },
    { type: 'referrer', created_at: now },
  ];
  for (const body of bodies) {
    t.true(hasBodyShape(body), JSON.stringify(body));
    const parsed = parseVisitBody(JSON.stringify(body), 'message-id');
    t.true(parsed.ok);
  }
  t.false(hasBodyShape({ type: 'referrer', created_at: Number.NaN }));
  t.false(hasBodyShape({ type: 'referrer', created_at: now, url: undefined }), 'a present optional field must be a string, as runtypes has it');
  t.deepEqual(parseVisitBody(JSON.stringify({ type: 'referrer', created_at: 'now' }), 'm'), {
    ok: false,
    rejection: { code: 'schema_violation', message: 'created_at: expected a number (epoch milliseconds)' },
  });
});
