/**
 * Dummy MySQL adapter: logs the parameterised upsert it would run, one line per batch.
 * Re-inserting a visit_id updates nothing that matters, so redelivery never adds a row.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import { createEchoStorage } from './echo.ts';
import type { StoragePort } from './port.ts';

export function mysqlStatement(type: VisitTypeDefinition, rowCount: number): string {
  const columns = ['visit_id', 'created_at', type.extraField];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return (
    `INSERT INTO \`${type.table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ` +
    Array.from({ length: rowCount }, () => tuple).join(', ') +
    ' ON DUPLICATE KEY UPDATE `visit_id` = `visit_id`'
  );
}

export function createMysqlStorage(logger: Logger): StoragePort {
  return createEchoStorage('mysql', mysqlStatement, logger);
}
