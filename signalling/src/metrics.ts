// The call node's metrics, read at scrape time: its rooms, peers and consumers, and each mediasoup
// worker's CPU (what the placement of calls across nodes weighs). Counts only: no call ids in labels.
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { MediaWorkerPool, Room } from '@gpc/media';
import { scrapeGauge } from '@gpc/contracts/metrics';
import type { CallRegistry } from './calls/call-registry';

function openRooms(calls: CallRegistry): Room[] {
  return [...calls.all()].flatMap((call) => (call.room && !call.room.closed ? [call.room] : []));
}

export function registerCallNodeMetrics(
  registry: Registry,
  calls: CallRegistry,
  media: MediaWorkerPool,
): void {
  scrapeGauge(registry, 'gpc_call_rooms', 'Calls with media open on this node', [], (gauge) => {
    gauge.set(openRooms(calls).length);
  });
  scrapeGauge(registry, 'gpc_call_peers', 'Participants with media on this node', [], (gauge) => {
    gauge.set(openRooms(calls).reduce((sum, room) => sum + room.counts().peers, 0));
  });
  scrapeGauge(
    registry,
    'gpc_call_consumers',
    'Media consumers (streams received) on this node',
    [],
    (gauge) => {
      gauge.set(openRooms(calls).reduce((sum, room) => sum + room.counts().consumers, 0));
    },
  );
  new Counter({
    name: 'gpc_media_worker_cpu_seconds_total',
    help: "Each mediasoup worker's CPU time (user and system), from its resource usage",
    labelNames: ['worker'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { index, worker } of media.workers) {
        try {
          const usage = await worker.getResourceUsage();
          this.inc({ worker: String(index) }, (usage.ru_utime + usage.ru_stime) / 1000);
        } catch {
          // the worker died between listing and asking: its replacement is counted next scrape
        }
      }
    },
  });
}
