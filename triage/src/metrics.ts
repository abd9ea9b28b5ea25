// triage's own metrics, read at scrape time: its queues' jobs by state (notifications, traces) and
// calls' media paths from PostgreSQL (write-backs by status are the record worker's). Counts only.
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { queueJobsGauge, scrapeGauge, type CountedQueue } from '@gpc/contracts/metrics';
import { attendancesByMediaPath } from './db/metrics';

export function registerTriageMetrics(
  registry: Registry,
  pool: pg.Pool,
  queues: Record<string, CountedQueue | undefined>,
): void {
  queueJobsGauge(registry, queues);
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
