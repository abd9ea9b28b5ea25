/**
 * Whether a practice's online form takes requests at a moment, and what the patient is told: one
 * pure rule for the public practice endpoint (what the page shows) and the submission route (what
 * the server accepts).
 *
 * England's GP contract 2025/26: from 1 October 2025 the online consultation tool stays open for the
 * whole of core hours (08:00–18:30 on weekdays that are not bank holidays); capacity may no longer
 * refuse a request then, it only changes what the patient is told and when the request is answered
 * (the next working day). Switching off in core hours is an exceptional, audited pause agreed with
 * the ICB. Outside core hours a practice chooses: open with the response time stated, or closed with
 * 111 advice. Practices in Wales, Scotland and Northern Ireland set their own hours (and capacity).
 * See: /work/shared/NHS-INTEGRATION.md Q4; https://www.england.nhs.uk/long-read/changes-to-the-gp-contract-in-2025-26/
 */
import type { Availability as AvailabilityView } from '@gpc/contracts';
import { localParts, isOpen, type OpeningHours } from '../practice-hours';
import { isBankHoliday, type Nation } from './bank-holidays';

/** England's core hours, on the practice's wall clock: from 08:00, until (not including) 18:30. */
export const coreHours = { from: '08:00', until: '18:30' } as const;

/** Outside its hours, the form is open (the response time stated) or closed (111 advice). */
export type OutOfHoursChoice = 'open' | 'closed';

/** What the rule reads of a practice. */
export interface PracticeHours {
  nation: Nation;
  timezone: string;
  /** The practice's own hours: used outside England (England's hours are core hours). */
  openingHours: OpeningHours;
  outOfHours: OutOfHoursChoice;
  /** What patients are told in hours about when to expect a reply; null: the service's words. */
  responseTimeMessage: string | null;
  /** England: past it, patients are told the reply comes the next working day. Elsewhere: the day's limit. */
  dailyCapacity: number;
}

/** An exceptional pause in force. */
export interface PauseInForce {
  until: Date;
}

/**
 * What the form does now. `open`: in hours (in England, core hours); `open-out-of-hours`: outside
 * them, by the practice's choice; both say when to expect a reply (`replyBy`, the practice's date).
 * `paused` and `closed` take nothing and give 111 advice.
 */
export type Availability =
  | { state: 'open'; coreHours: boolean; busy: boolean; message: string; replyBy: string }
  | { state: 'open-out-of-hours'; message: string; replyBy: string }
  | { state: 'paused'; message: string; until: Date }
  | { state: 'closed'; reason: 'hours' | 'capacity'; message: string; opensAt: Date | null };

export const defaultResponseTimeMessage = 'We will look at your request and reply by the end of today.';

const getHelpNow = 'If you need help now, call 111 or go to 111.nhs.uk. In an emergency, call 999.';

/** The form's availability at `now`, given any pause in force and the requests taken today. */
export function availabilityAt(
  practice: PracticeHours,
  now: Date,
  context: { pause?: PauseInForce | undefined; submittedToday: number },
): Availability {
  const { timezone } = practice;
  const today = localParts(timezone, now).date;
  if (context.pause && context.pause.until > now) {
    return {
      state: 'paused',
      until: context.pause.until,
      message: `Your GP surgery has paused online requests until ${when(timezone, context.pause.until, today)}. ${getHelpNow}`,
    };
  }
  const full = context.submittedToday >= practice.dailyCapacity;
  if (inHours(practice, now)) {
    const england = practice.nation === 'england';
    if (!england && full) return closedFor('capacity', practice, now, today);
    if (england && full) {
      const replyBy = nextWorkingDay(practice, today);
      return {
        state: 'open',
        coreHours: true,
        busy: true,
        replyBy,
        message: `We have had a lot of requests today. We will reply by the end of the next working day, ${dayName(replyBy, today)}.`,
      };
    }
    return {
      state: 'open',
      coreHours: england,
      busy: false,
      replyBy: today,
      message: practice.responseTimeMessage ?? defaultResponseTimeMessage,
    };
  }
  if (practice.outOfHours === 'closed' || (practice.nation !== 'england' && full))
    return closedFor('hours', practice, now, today);
  const opensAt = nextOpeningAt(practice, now);
  const replyBy = opensAt ? localParts(timezone, opensAt).date : nextWorkingDay(practice, today);
  return {
    state: 'open-out-of-hours',
    replyBy,
    message: opensAt
      ? `Your GP surgery is closed now. We will read your request when it opens, ${when(timezone, opensAt, today)}, and reply by the end of that day.`
      : 'Your GP surgery is closed now. We will read your request when it opens.',
  };
}

/**
 * The daily limit the intake statement holds a request to: none in England (capacity never refuses
 * there), the practice's own elsewhere.
 */
export function dailyLimit(practice: PracticeHours): number | null {
  return practice.nation === 'england' ? null : practice.dailyCapacity;
}

function closedFor(
  reason: 'hours' | 'capacity',
  practice: PracticeHours,
  now: Date,
  today: string,
): Availability {
  const opensAt = nextOpeningAt(practice, reason === 'capacity' ? startOfNextDay(practice, now) : now);
  const opens = opensAt ? ` It opens again ${when(practice.timezone, opensAt, today)}.` : '';
  const why =
    reason === 'capacity'
      ? 'Your GP surgery cannot take more online requests today.'
      : 'Your GP surgery is not taking online requests at the moment.';
  return { state: 'closed', reason, opensAt, message: `${why}${opens} ${getHelpNow}` };
}

/** Whether `now` is within England's core hours for the practice (false for any other nation). */
export function inCoreHours(practice: Pick<PracticeHours, 'nation' | 'timezone'>, now: Date): boolean {
  if (practice.nation !== 'england') return false;
  const { weekday, time, date } = localParts(practice.timezone, now);
  return (
    isWeekday(weekday) && !isBankHoliday('england', date) && coreHours.from <= time && time < coreHours.until
  );
}

/** In hours: core hours in England; elsewhere the practice's own hours, on days that are not bank holidays. */
export function inHours(practice: PracticeHours, now: Date): boolean {
  if (practice.nation === 'england') return inCoreHours(practice, now);
  const { date } = localParts(practice.timezone, now);
  return !isBankHoliday(practice.nation, date) && isOpen(practice.openingHours, practice.timezone, now);
}

/** The periods the practice is in hours on a calendar date (none on its nation's bank holidays). */
export function periodsOn(practice: PracticeHours, date: string): [string, string][] {
  if (isBankHoliday(practice.nation, date)) return [];
  const weekday = weekdayOf(date);
  if (practice.nation === 'england') return isWeekday(weekday) ? [[coreHours.from, coreHours.until]] : [];
  return practice.openingHours[weekday] ?? [];
}

/** The first working day after `date`: a day with hours that is not a bank holiday (within four weeks). */
export function nextWorkingDay(practice: PracticeHours, date: string): string {
  for (let day = addDays(date, 1), tries = 0; tries < 28; day = addDays(day, 1), tries++) {
    if (periodsOn(practice, day).length > 0) return day;
  }
  return addDays(date, 1);
}

/** When the practice is next in hours after `from` (or `from` itself when in hours then); null if not within four weeks. */
export function nextOpeningAt(practice: PracticeHours, from: Date): Date | null {
  const { date: today, time: nowTime } = localParts(practice.timezone, from);
  for (let day = today, tries = 0; tries < 28; day = addDays(day, 1), tries++) {
    for (const [start, end] of periodsOn(practice, day)) {
      if (day !== today || nowTime < start) return instantAt(practice.timezone, day, start);
      if (nowTime < end) return from;
    }
  }
  return null;
}

function startOfNextDay(practice: PracticeHours, now: Date): Date {
  return instantAt(practice.timezone, addDays(localParts(practice.timezone, now).date, 1), '00:00');
}

const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Weekday = (typeof weekdays)[number];

const isWeekday = (weekday: string) => !['sat', 'sun'].includes(weekday);

function weekdayOf(date: string): Weekday {
  return weekdays[new Date(`${date}T12:00:00Z`).getUTCDay()]!;
}

function addDays(date: string, days: number): string {
  const at = new Date(`${date}T12:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

/** The instant the practice's wall clock shows `time` on `date` (clock changes included). */
export function instantAt(timezone: string, date: string, time: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // the zone's offset at a first guess, then at the instant that guess gives (right across a change)
  let guess = wall - offsetMs(timezone, new Date(wall));
  guess = wall - offsetMs(timezone, new Date(guess));
  return new Date(guess);
}

function offsetMs(timezone: string, at: Date): number {
  const { date, time } = localParts(timezone, at);
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const minuteStart = Math.floor(at.getTime() / 60_000) * 60_000;
  return Date.UTC(year, month - 1, day, hour, minute) - minuteStart;
}

/** "8am today", "6:30pm tomorrow" or "8am on Monday 30 November", on the practice's wall clock. */
export function when(timezone: string, at: Date, today: string): string {
  const { date, time } = localParts(timezone, at);
  return `${clockTime(time)} ${dayName(date, today, 'on ')}`;
}

function dayName(date: string, today: string, prefix = ''): string {
  if (date === today) return 'today';
  if (date === addDays(today, 1)) return 'tomorrow';
  const named = new Date(`${date}T12:00:00Z`).toLocaleDateString('en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  });
  return `${prefix}${named.replace(',', '')}`;
}

/** "8am", "6:30pm", "12pm" (NHS style). */
function clockTime(time: string): string {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const suffix = hour < 12 ? 'am' : 'pm';
  const twelve = hour % 12 === 0 ? 12 : hour % 12;
  return minute === 0 ? `${twelve}${suffix}` : `${twelve}:${String(minute).padStart(2, '0')}${suffix}`;
}

/** The availability as the public practice endpoint gives it (`Availability` in contracts/src/rest/forms.ts). */
export function availabilityView(availability: Availability): AvailabilityView {
  switch (availability.state) {
    case 'paused':
      return { state: 'paused', message: availability.message, until: availability.until.toISOString() };
    case 'closed':
      return {
        state: 'closed',
        message: availability.message,
        opensAt: availability.opensAt?.toISOString() ?? null,
      };
    default:
      return availability.state === 'open'
        ? {
            state: 'open',
            coreHours: availability.coreHours,
            busy: availability.busy,
            message: availability.message,
            replyBy: availability.replyBy,
          }
        : { state: 'open-out-of-hours', message: availability.message, replyBy: availability.replyBy };
  }
}
