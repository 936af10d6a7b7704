/**
 * What both dummy adapters share: no database, one pino line per batch with the backend,
 * the table, the exact parameterised statement, how it would be executed, and the rows it would bind. Both give a reused
 * visit_id the same semantic (reuse.ts: the last write wins) and warn when its content differs.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';
import type { StoragePort } from '../../../machines/ports.ts';
import { toRow } from './port.ts';
import { lastRowPerVisitId, VisitIdMemory } from './reuse.ts';

/** visit_ids remembered to notice a reuse with other content (about 100 bytes each). */
const REMEMBERED_VISIT_IDS = 10_000;

/** How an adapter would write a batch: which statement, prepared or not, how many executions, run concurrently or not. */
export interface EchoPlan {
  readonly statement: string;
  readonly prepared: boolean;
  /** 1 for a statement that carries every row; the row count for a statement bound once per row. */
  readonly executions: number;
  readonly concurrent: boolean;
}

/** How the batch line is logged. */
export interface EchoOptions {
  /**
   * Logs go to a person at a terminal: the line with the statement and the rows is logged at
   * debug, the terminal shows a short line per write instead (written-lines.ts). JSON logs keep it at info.
   */
  readonly terminal?: boolean;
}

export function createEchoStorage(
  backend: string,
  plan: (type: VisitTypeDefinition, rowCount: number) => EchoPlan,
  logger: Logger,
  options: EchoOptions = {},
): StoragePort {
  const level = options.terminal ? 'debug' : 'info';
  const memory = new VisitIdMemory(REMEMBERED_VISIT_IDS);
  return {
    backend,
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const all = visits.map((visit) => toRow(type, visit));
      const changed = memory.record(all);
      if (changed.length > 0) {
        // Ids only: the content is the visitor's data.
        logger.warn(
          { backend, table: type.table, count: changed.length, visitIds: changed.slice(0, 20) },
          'visit_id arrived again with different content: the last write wins',
        );
      }
      const rows = lastRowPerVisitId(all);
      // Checked first: at info on a terminal the statement and rows are not even built.
      if (logger.isLevelEnabled(level)) logger[level]({ backend, table: type.table, ...plan(type, rows.length), rows }, 'write');
    },
  };
}
