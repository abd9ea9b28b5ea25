import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { StaffLive, type StaffLiveServerToClientEvents, type WriteBackJob } from '@gpc/contracts';

/** Tells the practice's open dashboards that a request's write-back changed. */
export type AnnounceWriteBack = (job: WriteBackJob) => void;

/**
 * Announces write-back changes to staff dashboards through the staff-live Redis channel (the
 * socket.io emitter speaks the adapter's protocol, so no socket server runs here). Best effort:
 * a dashboard that misses one sees the change on its next refresh.
 */
export function createWriteBackAnnouncer(redis: Redis, logger: Logger): AnnounceWriteBack {
  // the emitter drops publish's promise: catch here, or a Redis outage becomes an unhandled rejection
  const publisher = {
    publish: (channel: string, message: string | Buffer) =>
      redis.publish(channel, message).catch((error: unknown) => {
        logger.debug({ err: error }, 'could not announce a write-back change');
        return 0;
      }),
  };
  const staff = new Emitter<StaffLiveServerToClientEvents>(publisher, { key: StaffLive.redisKey }).of(
    StaffLive.namespace,
  );
  // called from a filing's `finally`: whatever happens here must never change the filing's outcome
  return ({ consultationId, practiceId }) => {
    try {
      staff.to(StaffLive.room(practiceId)).emit('queue:changed', { consultationId, change: 'updated' });
    } catch (error) {
      logger.debug({ err: error }, 'could not announce a write-back change');
    }
  };
}
