/** The wire contract: every class of bad input is rejected with its reason; legacy bodies pass. */
import test from 'ava';
import { LIMITS } from '../../src/contract/limits.ts';
import { parseVisitBody, type RejectionCode } from '../../src/contract/visit.ts';
import { resolveVisitType, VISIT_TYPES } from '../../src/contract/visit-types.ts';

const now = 1_764_000_000_000;
const body = (value: unknown) => JSON.stringify(value);

test('legacy bodies without ip, url or visit_id pass, keyed by the SQS MessageId', (t) => {
  const typeIn = parseVisitBody(body({ type: 'type-in', created_at: now }), 'msg-1');
  t.deepEqual(typeIn, { ok: true, visit: { visitId: 'msg-1', type: 'type-in', createdAt: now } });
  const referrer = parseVisitBody(body({ type: 'referrer', created_at: now }), 'msg-2');
  t.deepEqual(referrer, { ok: true, visit: { visitId: 'msg-2', type: 'referrer', createdAt: now } });
});

test('current bodies pass; direct is normalised to type-in', (t) => {
  t.deepEqual(parseVisitBody(body({ type: 'direct', created_at: now, ip: '2001:db8::1', visit_id: 'abc-1' }), 'm'), {
    ok: true,
    visit: { visitId: 'abc-1', type: 'type-in', createdAt: now, ip: '2001:db8::1' },
  });
  for (const url of ['test.com', 'https://example.org/a?b=c', 'http://test.com:8080/x', 'www.example.org/path', 'http://192.0.2.1/']) {
    const result = parseVisitBody(body({ type: 'referrer', created_at: now, url }), 'm');
    t.true(result.ok, url);
  }
});

const rejected: Array<[string, string | undefined, RejectionCode]> = [
  ['unknown type', body({ type: 'organic', created_at: now }), 'invalid_type'],
  ['type of the wrong case', body({ type: 'Referrer', created_at: now }), 'invalid_type'],
  ['malformed JSON', '{"type":"referrer"', 'malformed_json'],
  ['empty body', '', 'malformed_json'],
  ['missing body', undefined, 'malformed_json'],
  ['JSON array', '[1,2]', 'schema_violation'],
  ['JSON null', 'null', 'schema_violation'],
  ['missing type', body({ created_at: now }), 'schema_violation'],
  ['numeric type', body({ type: 1, created_at: now }), 'schema_violation'],
  ['missing created_at', body({ type: 'referrer' }), 'schema_violation'],
  ['created_at as a string', body({ type: 'referrer', created_at: String(now) }), 'schema_violation'],
  ['created_at in seconds', body({ type: 'referrer', created_at: Math.floor(now / 1000) }), 'schema_violation'],
  ['fractional created_at', body({ type: 'referrer', created_at: now + 0.5 }), 'schema_violation'],
  ['negative created_at', body({ type: 'referrer', created_at: -1 }), 'schema_violation'],
  ['bad ip', body({ type: 'type-in', created_at: now, ip: '300.1.1.1' }), 'invalid_ip'],
  ['ip as a host name', body({ type: 'type-in', created_at: now, ip: 'localhost' }), 'invalid_ip'],
  ['ip of the wrong type', body({ type: 'type-in', created_at: now, ip: 12 }), 'schema_violation'],
  ['javascript: url', body({ type: 'referrer', created_at: now, url: 'javascript:alert(1)' }), 'invalid_url'],
  ['JAVASCRIPT: url', body({ type: 'referrer', created_at: now, url: 'JavaScript:alert(1)' }), 'invalid_url'],
  ['data: url', body({ type: 'referrer', created_at: now, url: 'data:text/html,<script>' }), 'invalid_url'],
  ['ftp url', body({ type: 'referrer', created_at: now, url: 'ftp://test.com' }), 'invalid_url'],
  ['url with credentials', body({ type: 'referrer', created_at: now, url: 'https://user:pw@test.com' }), 'invalid_url'],
  ['url with spaces', body({ type: 'referrer', created_at: now, url: 'test .com' }), 'invalid_url'],
  ['url with a bad host', body({ type: 'referrer', created_at: now, url: 'http://-bad-.com' }), 'invalid_url'],
  ['oversize url', body({ type: 'referrer', created_at: now, url: `test.com/${'a'.repeat(LIMITS.urlLength)}` }), 'invalid_url'],
  ['oversize type', body({ type: 'x'.repeat(LIMITS.typeLength + 1), created_at: now }), 'invalid_type'],
  ['oversize visit_id', body({ type: 'referrer', created_at: now, visit_id: 'a'.repeat(LIMITS.visitIdLength + 1) }), 'invalid_visit_id'],
  ['visit_id with odd characters', body({ type: 'referrer', created_at: now, visit_id: '../../etc' }), 'invalid_visit_id'],
  ['oversize body', body({ type: 'referrer', created_at: now, pad: 'x'.repeat(LIMITS.bodyBytes) }), 'body_too_large'],
  ['extra junk field', body({ type: 'referrer', created_at: now, junk: 1 }), 'unexpected_field'],
  ['__proto__ key', '{"type":"referrer","created_at":1764000000000,"__proto__":{"polluted":true}}', 'unexpected_field'],
  ['ip on a referrer', body({ type: 'referrer', created_at: now, ip: '10.0.0.1' }), 'unexpected_field'],
  ['url on a type-in', body({ type: 'direct', created_at: now, url: 'test.com' }), 'unexpected_field'],
];

for (const [name, raw, code] of rejected) {
  test(`rejects ${name} as ${code}`, (t) => {
    const result = parseVisitBody(raw, 'm');
    t.false(result.ok);
    if (!result.ok) {
      t.is(result.rejection.code, code);
      t.true(result.rejection.message.length > 0 && result.rejection.message.length < 300, 'a short reason');
    }
  });
}

test('rejection messages stay on one line whatever the input', (t) => {
  const result = parseVisitBody(body({ type: `evil\n${'y'.repeat(30)}`, created_at: now }), 'm');
  t.false(result.ok);
  if (!result.ok) t.false(result.rejection.message.includes('\n'));
});

test('the registry resolves names and aliases, one table per type', (t) => {
  t.is(resolveVisitType('direct')?.name, 'type-in');
  t.is(resolveVisitType('type-in')?.table, 'traffic_type_in');
  t.is(resolveVisitType('referrer')?.extraField, 'url');
  t.is(resolveVisitType('toString'), undefined, 'no prototype lookups');
  t.is(new Set(VISIT_TYPES.map((v) => v.table)).size, VISIT_TYPES.length);
});
