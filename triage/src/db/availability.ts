// What the availability rule (hours/availability.ts) reads of a practice, as columns of a query over
// `practice p`: its hours settings, the pause in force and the requests taken on its calendar day.
// The public form and the intake each read them in the one round trip they already make.
import type { OpeningHours } from '../practice-hours';
import type { Nation } from '../hours/bank-holidays';
import type { OutOfHoursChoice, PracticeHours } from '../hours/availability';
import { pausedUntilColumn } from './pauses';
import type { Queryable } from './queryable';

/** The columns, for the instant in the query parameter `nowParam` (e.g. `$4`, a timestamptz). */
export const availabilityColumns = (nowParam: string) =>
  `p.nation, p.timezone, p.opening_hours, p.out_of_hours, p.response_time_message, p.daily_capacity,
   ${pausedUntilColumn(nowParam)} AS paused_until,
   COALESCE((SELECT d.submitted FROM practice_daily_submissions d
              WHERE d.practice_id = p.id AND d.day = (${nowParam}::timestamptz AT TIME ZONE p.timezone)::date), 0)
     AS submitted_today`;

export interface AvailabilityRow {
  nation: Nation;
  timezone: string;
  opening_hours: OpeningHours;
  out_of_hours: OutOfHoursChoice;
  response_time_message: string | null;
  daily_capacity: number;
  paused_until: Date | null;
  submitted_today: number;
}

/** The practice's hours, the pause in force and the day's count, as the rule takes them. */
export interface PracticeAvailabilityInputs {
  hours: PracticeHours;
  pause: { until: Date } | undefined;
  submittedToday: number;
}

export function toAvailabilityInputs(row: AvailabilityRow): PracticeAvailabilityInputs {
  return {
    hours: {
      nation: row.nation,
      timezone: row.timezone,
      openingHours: row.opening_hours,
      outOfHours: row.out_of_hours,
      responseTimeMessage: row.response_time_message,
      dailyCapacity: row.daily_capacity,
    },
    pause: row.paused_until ? { until: row.paused_until } : undefined,
    submittedToday: Number(row.submitted_today),
  };
}

/** A practice as the public form sees it, with what its availability at `now` depends on. */
export interface PracticeWithAvailability {
  id: string;
  odsCode: string;
  name: string;
  availability: PracticeAvailabilityInputs;
}

/** The practice with that ODS code (in either case), or undefined when none uses this service. */
export async function findPracticeWithAvailability(
  db: Queryable,
  odsCode: string,
  now: Date,
): Promise<PracticeWithAvailability | undefined> {
  const { rows } = await db.query<AvailabilityRow & { id: string; ods_code: string; name: string }>(
    `SELECT p.id, p.ods_code, p.name, ${availabilityColumns('$2')} FROM practice p WHERE p.ods_code = $1`,
    [odsCode.toUpperCase(), now],
  );
  const row = rows[0];
  return row
    ? { id: row.id, odsCode: row.ods_code, name: row.name, availability: toAvailabilityInputs(row) }
    : undefined;
}
