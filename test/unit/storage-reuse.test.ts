import test from 'ava';
import type { Visit } from '../../src/contract/visit.ts';
import { visitType } from '../../src/contract/visit-types.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import { capturedLogger } from '../support/captured-logger.ts';

type Row = Record<string, string | number | null>;
type Line = { msg: string; statement?: string; rows?: Row[]; visitIds?: string[] };

const capture = () => capturedLogger<Line>('info');

/** MySQL: a new key inserts; an existing key gets only the columns the UPDATE clause assigns from the new row. */
function applyMysql(table: Map<string, Row>, statement: string, rows: Row[]) {
  const assigned = [...statement.matchAll(/`(\w+)` = `new`\.`(\w+)`/g)].map((m) => m[1]);
  for (const row of rows) {
    const old = table.get(String(row.visit_id));
    if (!old) table.set(String(row.visit_id), { ...row });
    else for (const column of assigned) old[column] = row[column];
  }
}

/** Cassandra: INSERT overwrites (IF NOT EXISTS would keep the old row); within one batch, equal timestamps: the larger value wins. */
function applyCassandra(table: Map<string, Row>, statement: string, rows: Row[]) {
  const ifNotExists = statement.includes('IF NOT EXISTS');
  const batch = new Map<string, Row>();
  for (const row of rows) {
    const id = String(row.visit_id);
    const earlier = batch.get(id);
    if (!earlier) batch.set(id, { ...row });
    else for (const [column, value] of Object.entries(row)) if (String(value) > String(earlier[column])) earlier[column] = value;
  }
  for (const [id, row] of batch) if (!(ifNotExists && table.has(id))) table.set(id, row);
}

const visit = (visitId: string, createdAt: number, ip: string): Visit => ({ visitId, type: 'type-in', createdAt, ip });
const sequence: Visit[][] = [
  [visit('v1', 1, '10.0.0.1'), visit('v2', 2, '10.0.0.2')],
  [visit('v1', 5, '10.0.0.9')],
  // One batch carrying v2 twice, the last with the smaller values.
  [visit('v2', 9, '10.0.0.8'), visit('v2', 3, '10.0.0.3')],
];

async function tableAfter(backend: 'mysql' | 'cassandra') {
  const { lines, logger } = capture();
  const storage = createStorage(backend, logger);
  for (const batch of sequence) await storage.writeBatch(visitType('type-in'), batch, new AbortController().signal);
  await new Promise((resolve) => setImmediate(resolve));
  const table = new Map<string, Row>();
  for (const line of lines.filter((l) => l.msg === 'write')) (backend === 'mysql' ? applyMysql : applyCassandra)(table, line.statement!, line.rows!);
  return { table: Object.fromEntries(table), lines };
}

test('the same writes leave the same rows on MySQL and Cassandra: the last write of a visit_id wins', async (t) => {
  const mysql = await tableAfter('mysql');
  const cassandra = await tableAfter('cassandra');
  const expected = {
    v1: { visit_id: 'v1', created_at: 5, ip: '10.0.0.9' },
    v2: { visit_id: 'v2', created_at: 3, ip: '10.0.0.3' },
  };
  t.deepEqual(mysql.table, expected);
  t.deepEqual(cassandra.table, expected);
});

test('a visit_id arriving with different content is warned about (ids only); the same content again is not', async (t) => {
  const { lines } = await tableAfter('mysql');
  const warnings = lines.filter((l) => l.msg.startsWith('visit_id arrived again'));
  t.deepEqual(
    warnings.map((w) => w.visitIds),
    [['v1'], ['v2']],
  );
  t.false(JSON.stringify(warnings).includes('10.0.0'), 'no visitor data in the warning');
  const { lines: again, logger } = capture();
  const storage = createStorage('cassandra', logger);
  const batch = [visit('v7', 1, '10.0.0.7')];
  await storage.writeBatch(visitType('type-in'), batch, new AbortController().signal);
  await storage.writeBatch(visitType('type-in'), batch, new AbortController().signal);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(again.filter((l) => l.msg.startsWith('visit_id arrived again')).length, 0, 'a redelivery is not a reuse');
});
