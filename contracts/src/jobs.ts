import { Type, type Static } from '@sinclair/typebox';

/** Queue names, shared by producers and workers. */
export const QueueNames = {
  /** Consultation summaries bound for the GP record over FHIR. */
  writeBack: 'fhir-write-back',
} as const;

/** Jobs carry ids, never snapshots: the worker loads the current data when it runs. */
export const WriteBackJobSchema = Type.Object(
  { consultationId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
export type WriteBackJob = Static<typeof WriteBackJobSchema>;

/** One job per consultation: enqueueing the same consultation twice is a no-op. */
export const writeBackJobId = (consultationId: string): string => `write-back:${consultationId}`;
