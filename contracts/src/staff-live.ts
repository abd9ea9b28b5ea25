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

export interface StaffLiveServerToClientEvents {
  'queue:changed': (change: QueueChange) => void;
}
