/**
 * A visit type that reuses `ip` or `url` is one registry entry. A type with a new field also
 * touches the places listed in docs/design.md ("Adding a visit type"); this test walks every
 * type of the registry through each of them, so a place forgotten for a new field fails here,
 * named. The samples below are typed by the registry's ExtraField: adding a field fails tsc
 * here first, until it has a valid value, an invalid one and its rejection code.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { writeFailedReason } from '../../machines/batch.ts';
import { buildVisit } from '../../src/agent/build-visit.ts';
import { readRequest } from '../../src/agent/request.ts';
import { LIMITS } from '../../src/contract/limits.ts';
import { type ExtraField, VISIT_TYPES } from '../../src/contract/visit-types.ts';
import { parseVisitBody, type RejectionCode, toVisitBody, type Visit } from '../../src/contract/visit.ts';
import { cassandraStatement } from '../../src/processor/storage/cassandra.ts';
import { mysqlStatement } from '../../src/processor/storage/mysql.ts';
import { toRow } from '../../src/processor/storage/port.ts';
import { VisitIdMemory } from '../../src/processor/storage/reuse.ts';
import { generateEvents } from '../../scripts/traffic/generate.ts';

const SAMPLES: Record<ExtraField, { readonly valid: string; readonly other: string; readonly invalid: string; readonly code: RejectionCode }> = {
  ip: { valid: '203.0.113.7', other: '2001:db8::7', invalid: '203.0.113.999', code: 'invalid_ip' },
  url: { valid: 'https://news.example/story', other: 'test.com', invalid: 'javascript://example.com/%0aalert(1)', code: 'invalid_url' },
};

/** The places a new field touches, as docs/design.md lists them. */
const PLACES = [
  'src/contract/visit-types.ts',
  'src/contract/visit.ts',
  'src/contract/limits.ts',
  'src/agent/request.ts',
  'src/agent/build-visit.ts',
  'machines/batch.ts',
  'schema/mysql.sql',
  'schema/cassandra.cql',
  'scripts/traffic/generate.ts',
];

const body = (fields: Record<string, unknown>) => JSON.stringify({ created_at: 1_764_000_000_000, visit_id: 'v1', ...fields });

for (const type of VISIT_TYPES) {
  const field: ExtraField = type.extraField;
  const sample = SAMPLES[field];

  test(`${type.name}.${field} — src/contract/visit.ts: accepted, checked, kept on the visit and sent back on the wire`, (t) => {
    const parsed = parseVisitBody(body({ type: type.name, [field]: sample.valid }), 'm1');
    if (!parsed.ok) return t.fail(`a valid ${field} is rejected: ${parsed.rejection.message}`);
    t.is(parsed.visit[field], sample.valid, 'kept on the visit');
    t.is(toVisitBody(parsed.visit)[field], sample.valid, 'sent on the wire (toVisitBody)');
    const invalid = parseVisitBody(body({ type: type.name, [field]: sample.invalid }), 'm1');
    t.is(invalid.ok ? undefined : invalid.rejection.code, sample.code, `an invalid ${field} is rejected with its own code`);
    const huge = parseVisitBody(body({ type: type.name, [field]: sample.valid + 'x'.repeat(LIMITS.bodyBytes / 2) }), 'm1');
    t.is(huge.ok ? undefined : huge.rejection.code, sample.code, `src/contract/limits.ts: an oversized ${field} is refused by its own rule`);
    for (const other of VISIT_TYPES.filter((o) => o.extraField !== field)) {
      const misplaced = parseVisitBody(body({ type: other.name, [field]: sample.valid }), 'm1');
      t.is(misplaced.ok ? undefined : misplaced.rejection.code, 'unexpected_field', `${field} on a ${other.name} visit`);
    }
  });

  test(`${type.name}.${field} — src/agent/request.ts, build-visit.ts: the agent takes it from a direct invoke and enqueues it`, (t) => {
    const read = readRequest({ queryStringParameters: { type: type.name, [field]: sample.valid } });
    if (!read.ok) return t.fail(`the request is refused: ${read.rejection.details}`);
    const built = buildVisit(read.request, { visitId: 'v1', createdAt: 1_764_000_000_000 });
    if (!built.ok) return t.fail(`the visit is refused: ${built.rejection.details}`);
    t.is(JSON.parse(built.body)[field], sample.valid);
  });

  test(`${type.name}.${field} — storage: the row, both statements and the reuse check carry the column`, (t) => {
    const visit = { type: type.name, createdAt: 1_764_000_000_000, visitId: 'v1', [field]: sample.valid } as Visit;
    t.is(toRow(type, visit)[field], sample.valid, 'src/processor/storage/port.ts toRow');
    t.true(mysqlStatement(type, 1).includes(`\`${field}\``), 'the MySQL upsert names the column');
    t.true(cassandraStatement(type).includes(field), 'the CQL insert names the column');
    const memory = new VisitIdMemory(10);
    memory.record([toRow(type, visit)]);
    const changed = memory.record([toRow(type, { ...visit, [field]: sample.other } as Visit)]);
    t.deepEqual(changed, ['v1'], 'src/processor/storage/reuse.ts: a reused visit_id with another value is noticed');
  });

  test(`${type.name}.${field} — schema/: both schema files have the table with the column`, (t) => {
    const sql = readFileSync('schema/mysql.sql', 'utf8').match(new RegExp(`CREATE TABLE IF NOT EXISTS \`${type.table}\` \\(([\\s\\S]*?)\\) ENGINE`));
    t.truthy(sql, `schema/mysql.sql creates ${type.table}`);
    t.regex(sql?.[1] ?? '', new RegExp(`^\\s*\`${field}\`\\s`, 'm'), `schema/mysql.sql: ${type.table} has ${field}`);
    const cql = readFileSync('schema/cassandra.cql', 'utf8').match(new RegExp(`CREATE TABLE IF NOT EXISTS traffic\\.${type.table} \\(([\\s\\S]*?)\\);`));
    t.truthy(cql, `schema/cassandra.cql creates ${type.table}`);
    t.regex(cql?.[1] ?? '', new RegExp(`^\\s*${field}\\s`, 'm'), `schema/cassandra.cql: ${type.table} has ${field}`);
  });

  test(`${type.name}.${field} — machines/batch.ts: a storage error quoting the value is redacted in the DLQ reason`, (t) => {
    const visit = { type: type.name, createdAt: 1_764_000_000_000, visitId: 'v1', [field]: sample.valid } as Visit;
    const reason = writeFailedReason(new Error(`Data too long for column '${field}': '${sample.valid}'`), {
      visit,
      messageId: 'm1',
      receiptHandle: 'r1',
      receiveCount: 1,
    });
    t.false(reason.includes(sample.valid), reason);
  });

  test(`${type.name}.${field} — scripts/traffic/generate.ts: generated visits carry the field`, (t) => {
    const events = [...generateEvents({ count: 30, mix: { [type.name]: 1 }, seed: 7 })];
    t.is(events.length, 30);
    for (const { expect, label } of events) t.truthy(expect[field as keyof typeof expect], `${label} expects a ${field}`);
  });
}

test('docs/design.md lists every place a new field touches, and the places exist', (t) => {
  const design = readFileSync('docs/design.md', 'utf8');
  const section = design.split('\n## ').find((s) => s.startsWith('Adding a visit type')) ?? '';
  t.not(section, '', 'docs/design.md has a section "Adding a visit type"');
  for (const place of PLACES) {
    t.true(section.includes(`\`${place}\``), `the section names ${place}`);
    t.notThrows(() => readFileSync(place), `${place} exists`);
  }
});
