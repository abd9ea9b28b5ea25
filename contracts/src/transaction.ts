/**
 * The one way every service runs a PostgreSQL transaction. Typed by what it uses of `pg` (a pool's
 * checked-out client), so contracts needs no `pg` of its own: pass a `pg.Pool`, get a `pg.PoolClient`.
 */
export interface TransactionClient {
  query(text: string): Promise<unknown>;
  release(error?: Error | boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

export interface TransactionPool<Client extends TransactionClient> {
  connect(): Promise<Client>;
}

/**
 * Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws.
 *
 * While a client is checked out, pg's pool no longer listens for its errors, and pg emits a lost
 * connection (PostgreSQL crashed or restarted, the backend terminated) as an `error` event whenever no
 * query is running on it, between two of this transaction's statements say: unheard, that event
 * stops the process. It is heard here instead; the next statement fails, the transaction with it, and
 * the connection is released as broken, so the pool drops it rather than lending it again.
 */
export async function withTransaction<Client extends TransactionClient, T>(
  pool: TransactionPool<Client>,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onLost = (error: Error) => {
    lost ??= error;
  };
  client.on('error', onLost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('error', onLost);
    client.release(lost ?? false);
  }
}
