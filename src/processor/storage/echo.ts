/**
 * What both dummy adapters share: no database, one pino line per batch with the backend,
 * the table, the exact parameterised statement and the rows it would bind.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';
import { toRow, type StoragePort } from './port.ts';

export function createEchoStorage(backend: string, statement: (type: VisitTypeDefinition, rowCount: number) => string, logger: Logger): StoragePort {
  return {
    backend,
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const rows = visits.map((visit) => toRow(type, visit));
      logger.info({ backend, table: type.table, statement: statement(type, rows.length), rows }, 'write');
    },
  };
}
