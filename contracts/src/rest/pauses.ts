import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../schema';

/**
 * Exceptional pauses of a practice's online form (admins, `/practice/pauses`). England's GP
 * contract keeps the form open through core hours; switching it off is for exceptional
 * circumstances agreed with the ICB, so a pause is an explicit act with a reason, a start and an
 * end (at most `maxPauseHours` later). It ends by itself at `until`, or earlier when an admin ends
 * it. While it is in force the form shows 111 advice and submissions are refused (`practicePaused`).
 * Every pause stays on record: `GET /practice/pauses.csv` is the report for the ICB.
 */

/**
 * The longest one pause may last. A day covers the exceptional events a pause is for (a system
 * outage, a building evacuation, the ICB-agreed business-continuity day) while a forgotten pause
 * can never keep the form shut into the next day unnoticed: a longer closure is a fresh, audited
 * decision each day.
 */
export const maxPauseHours = 24;

/** How far ahead a pause may be set up (e.g. a planned system migration agreed with the ICB). */
export const maxPauseLeadDays = 14;

/** `POST /practice/pauses`: pause the form now (or from `from`) until `until`, and why. */
export const NewPause = Type.Object(
  {
    /** Why, in words the ICB will read (10 to 500 characters). */
    reason: Type.String({ minLength: 10, maxLength: 500, pattern: '\\S' }),
    /** When it starts; now when left out. ISO 8601 date-time. */
    from: Type.Optional(Type.String({ format: 'date-time' })),
    /** When it ends by itself: after `from`, at most `maxPauseHours` later. ISO 8601 date-time. */
    until: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type NewPause = Static<typeof NewPause>;

/** A pause as admins see it. `status`: `scheduled` (not started), `in-force`, `ended` (at `until` or early). */
export const PauseView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  reason: Type.String(),
  from: Type.String({ format: 'date-time' }),
  until: Type.String({ format: 'date-time' }),
  status: Type.Union([Type.Literal('scheduled'), Type.Literal('in-force'), Type.Literal('ended')]),
  pausedBy: Type.Object({ id: Type.String(), name: Type.String() }),
  createdAt: Type.String({ format: 'date-time' }),
  /** Set when an admin ended it before `until`. */
  endedEarly: Nullable(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      by: Type.Object({ id: Type.String(), name: Type.String() }),
    }),
  ),
});
export type PauseView = Static<typeof PauseView>;

/** `GET /practice/pauses`: the practice's pauses, newest first. */
export const PauseList = Type.Array(PauseView);
export type PauseList = Static<typeof PauseList>;

/** The columns of `GET /practice/pauses.csv`, in order (times in ISO 8601 UTC). */
export const pauseReportColumns = [
  'practice_ods_code',
  'practice_name',
  'paused_by',
  'reason',
  'from',
  'until',
  'ended_early_by',
  'ended_early_at',
  'recorded_at',
] as const;
