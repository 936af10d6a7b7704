/** Picks the storage adapter named by STORAGE_BACKEND: switching databases is configuration. */
import type { Logger } from 'pino';
import type { StorageBackend } from '../config/config.ts';
import { createCassandraStorage } from './cassandra.ts';
import type { EchoOptions } from './echo.ts';
import { createMysqlStorage } from './mysql.ts';
import type { StorageAdapter } from './port.ts';

export function createStorage(backend: StorageBackend, logger: Logger, options?: EchoOptions): StorageAdapter {
  return backend === 'cassandra' ? createCassandraStorage(logger, options) : createMysqlStorage(logger, options);
}
