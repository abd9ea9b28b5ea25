import type pg from 'pg';

/** What a repository function runs its SQL on: the pool, or a transaction's client. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;
