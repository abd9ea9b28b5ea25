// The record worker's metrics, read at scrape time: the write-back queue's jobs by state (its
// outcomes: completed, failed) and write-backs by status from PostgreSQL. Counts only.
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { QueueNames } from '@gpc/contracts';
import { queueJobsGauge, scrapeGauge } from '@gpc/contracts/metrics';
import type { WriteBackQueue } from './queue';
import { countWriteBacksByStatus } from './write-back/reads';

export function registerRecordMetrics(registry: Registry, queue: WriteBackQueue, pool: pg.Pool): void {
  queueJobsGauge(registry, { [QueueNames.writeBack]: queue });
  scrapeGauge(
    registry,
    'gpc_write_backs',
    'Write-backs to GP records by status',
    ['status'],
    async (gauge) => {
      for (const { status, count } of await countWriteBacksByStatus(pool)) gauge.set({ status }, count);
    },
  );
}
