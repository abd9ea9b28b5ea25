import type pg from 'pg';
import { withTransaction as inTransaction } from '@gpc/contracts/transaction';

/**
 * Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws
 * (a connection lost meanwhile fails it, never the process: see contracts' `withTransaction`).
 */
export function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction<pg.PoolClient, T>(pool, work);
}
