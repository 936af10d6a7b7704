/**
 * Dummy Cassandra adapter: logs the CQL it would run, one line per batch.
 * Every visit_id is its own partition, so a batch of rows would span as many partitions as rows:
 * the coordinator would hold them all and one slow replica would hold up the rest, which is why
 * Cassandra advises against multi-partition batches. Instead one prepared INSERT is executed once
 * per row, all rows of a batch concurrently (the batch is written when every row is).
 * An INSERT is an upsert by primary key (visit_id): the last write wins, as on MySQL, so
 * redelivery never adds a row. Not IF NOT EXISTS: a lightweight transaction per row would cost
 * a Paxos round. A batch never carries one visit_id twice (reuse.ts), so no two of its
 * concurrent inserts race for one row.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import { createEchoStorage, type EchoOptions, type EchoPlan } from './echo.ts';
import type { StorageAdapter } from './port.ts';

/** The prepared statement, bound once per row. */
export function cassandraStatement(type: VisitTypeDefinition): string {
  return `INSERT INTO traffic.${type.table} (visit_id, created_at, ${type.extraField}) VALUES (?, ?, ?)`;
}

export function cassandraPlan(type: VisitTypeDefinition, rowCount: number): EchoPlan {
  return { statement: cassandraStatement(type), prepared: true, executions: rowCount, concurrent: true };
}

export function createCassandraStorage(logger: Logger, options?: EchoOptions): StorageAdapter {
  return createEchoStorage('cassandra', cassandraPlan, logger, options);
}
