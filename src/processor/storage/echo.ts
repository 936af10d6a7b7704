/**
 * What both dummy adapters share: no database, one pino line per batch with the backend,
 * the table, the exact parameterised statement and the rows it would bind. Both give a reused
 * visit_id the same semantic (reuse.ts: the last write wins) and warn when its content differs.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';
import { toRow, type StoragePort } from './port.ts';
import { lastRowPerVisitId, VisitIdMemory } from './reuse.ts';

/** visit_ids remembered to notice a reuse with other content (about 100 bytes each). */
const REMEMBERED_VISIT_IDS = 10_000;

export function createEchoStorage(backend: string, statement: (type: VisitTypeDefinition, rowCount: number) => string, logger: Logger): StoragePort {
  const memory = new VisitIdMemory(REMEMBERED_VISIT_IDS);
  return {
    backend,
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const all = visits.map((visit) => toRow(type, visit));
      const changed = memory.record(all);
      if (changed.length > 0) {
        // Ids only: the content is the visitor's data.
        logger.warn({ backend, table: type.table, count: changed.length, visitIds: changed.slice(0, 20) }, 'visit_id arrived again with different content: the last write wins');
      }
      const rows = lastRowPerVisitId(all);
      logger.info({ backend, table: type.table, statement: statement(type, rows.length), rows }, 'write');
    },
  };
}
