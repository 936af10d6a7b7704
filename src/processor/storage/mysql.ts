/**
 * Dummy MySQL adapter: logs the parameterised upsert it would run, one line per batch.
 * A visit_id already stored gets the new row's columns (the last write wins, as on Cassandra),
 * so redelivery never adds a row and both backends keep the same row. Row alias: MySQL 8.0.19+.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import { createEchoStorage, type EchoOptions, type EchoPlan } from './echo.ts';
import type { StorageAdapter } from './port.ts';

export function mysqlStatement(type: VisitTypeDefinition, rowCount: number): string {
  const columns = ['visit_id', 'created_at', type.extraField];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return (
    `INSERT INTO \`${type.table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ` +
    Array.from({ length: rowCount }, () => tuple).join(', ') +
    ' AS `new` ON DUPLICATE KEY UPDATE ' +
    columns
      .slice(1)
      .map((c) => `\`${c}\` = \`new\`.\`${c}\``)
      .join(', ')
  );
}

/** One multi-row upsert per batch: all rows of a batch go to one table in one round trip. */
export function mysqlPlan(type: VisitTypeDefinition, rowCount: number): EchoPlan {
  return { statement: mysqlStatement(type, rowCount), prepared: false, executions: 1, concurrent: false };
}

export function createMysqlStorage(logger: Logger, options?: EchoOptions): StorageAdapter {
  return createEchoStorage('mysql', mysqlPlan, logger, options);
}
