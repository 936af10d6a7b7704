/**
 * Dummy Cassandra adapter: logs the parameterised CQL it would run, one line per batch.
 * A Cassandra INSERT is an upsert by primary key (visit_id): the last write wins, as on MySQL,
 * so redelivery never adds a row. Not IF NOT EXISTS: a lightweight transaction per row would
 * cost a Paxos round and cannot share an unlogged batch across partitions.
 * The batch is UNLOGGED: rows of one batch share no partition, and each insert is idempotent;
 * it never carries one visit_id twice (same timestamp: the larger value, not the last, would win).
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import { createEchoStorage } from './echo.ts';
import type { StoragePort } from './port.ts';

export function cassandraStatement(type: VisitTypeDefinition, rowCount: number): string {
  const insert = `INSERT INTO traffic.${type.table} (visit_id, created_at, ${type.extraField}) VALUES (?, ?, ?);`;
  return `BEGIN UNLOGGED BATCH ${Array.from({ length: rowCount }, () => insert).join(' ')} APPLY BATCH;`;
}

export function createCassandraStorage(logger: Logger): StoragePort {
  return createEchoStorage('cassandra', cassandraStatement, logger);
}
