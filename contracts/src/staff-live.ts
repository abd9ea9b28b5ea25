import type { TSchema } from '@sinclair/typebox';

/**
 * Live queue updates to staff dashboards: socket.io namespace `/staff`, one room per practice.
 * Triage serves it; the record worker announces write-back changes into it through Redis.
 */
export const StaffLive = {
  path: '/staff-live',
  namespace: '/staff',
  /** The Redis adapter's channel prefix: triage replicas and the record worker must agree on it. */
  redisKey: 'gpc-staff-live',
  room: (practiceId: string) => `practice:${practiceId}`,
} as const;

/** What staff dashboards are told: which request changed, never its contents (they fetch those with their token). */
export interface QueueChange {
  consultationId: string;
  change: 'created' | 'updated' | 'closed';
}

/**
 * What dashboards may send over the live feed, by event, with each payload's schema: nothing (they
 * read and change requests over REST). Triage refuses every client event, `badRequest` when it asks
 * for an answer; triage/test/live-payload-fuzz.test.ts fuzzes each event named here.
 */
export const StaffLiveClientPayloads = {} satisfies Record<string, TSchema>;

export interface StaffLiveServerToClientEvents {
  'queue:changed': (change: QueueChange) => void;
}
