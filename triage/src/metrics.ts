// triage's own metrics, read at scrape time: its queues' jobs by state (notifications, traces),
// write-backs by status and calls' media paths from PostgreSQL. Counts only: no ids in labels.
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { queueJobsGauge, scrapeGauge, type CountedQueue } from '@gpc/contracts/metrics';
import { attendancesByMediaPath, writeBacksByStatus } from './db/metrics';

export function registerTriageMetrics(
  registry: Registry,
  pool: pg.Pool,
  queues: Record<string, CountedQueue | undefined>,
): void {
  queueJobsGauge(registry, queues);
  scrapeGauge(
    registry,
    'gpc_write_backs',
    'Write-backs to GP records by status',
    ['status'],
    async (gauge) => {
      for (const { status, count } of await writeBacksByStatus(pool)) gauge.set({ status }, count);
    },
  );
  // the relay share of calls is sum(path=~"relay-.*") / sum(all) over these
  scrapeGauge(
    registry,
    'gpc_call_attendances',
    'Call attendances of the last day by media path (udp, tcp, relay-udp, relay-tcp, relay-tls)',
    ['path'],
    async (gauge) => {
      for (const { path, count } of await attendancesByMediaPath(pool)) gauge.set({ path }, count);
    },
  );
}
