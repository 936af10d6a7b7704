/**
 * What both dummy adapters share: no database, one pino line per batch with the backend,
 * the table, the exact parameterised statement, how it would be executed, and the rows it would bind. Both give a reused
 * visit_id the same semantic (reuse.ts: the last write wins) and warn when its content differs.
 */
import type { Logger } from 'pino';
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';
import { toRow, type StorageAdapter, type StorageStatus } from './port.ts';
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

/**
 * An echo adapter. It has no connection, so it is ready at once and until closed; closed, it
 * answers as a real adapter would: not ready, and every write refused.
 */
export function createEchoStorage(
  backend: string,
  plan: (type: VisitTypeDefinition, rowCount: number) => EchoPlan,
  logger: Logger,
  options: EchoOptions = {},
): StorageAdapter {
  const level = options.terminal ? 'debug' : 'info';
  const memory = new VisitIdMemory(REMEMBERED_VISIT_IDS);
  let closed = false;
  const status = (): StorageStatus => (closed ? { ready: false, reason: `${backend} storage is closed` } : { ready: true });
  return {
    backend,
    async ready(signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const now = status();
      if (!now.ready) throw new Error(now.reason);
    },
    status,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      logger.info({ backend }, 'storage closed');
    },
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const now = status();
      if (!now.ready) throw new Error(now.reason);
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
      if (logger.isLevelEnabled(level)) logger[level]({ backend, table: type.table, ...plan(type, rows.length), count: rows.length, rows }, 'write');
    },
  };
}
