/** Picks the storage adapter named by STORAGE_BACKEND: switching databases is configuration. */
import type { Logger } from 'pino';
import type { StorageBackend } from '../config.ts';
import { createCassandraStorage } from './cassandra.ts';
import { createMysqlStorage } from './mysql.ts';
import type { StorageAdapter } from './port.ts';

export function createStorage(backend: StorageBackend, logger: Logger): StorageAdapter {
  return backend === 'cassandra' ? createCassandraStorage(logger) : createMysqlStorage(logger);
}
