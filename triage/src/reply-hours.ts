import type { PatientReplySent } from '@gpc/contracts';
import { coreHours } from './hours/availability';
import { bankHolidaysIn, type Nation } from './hours/bank-holidays';
import { nextOpening, type OpeningHours } from './practice-hours';

/**
 * What a patient replying out of hours is told: the practice is closed and when it will read their
 * message, in the practice's own time zone, in en-GB words ("8:00am on Monday 30 November"). The
 * hours are those the practice is in hours by (hours/availability.ts): England's core hours in
 * England, the practice's own hours elsewhere; never on its nation's bank holidays.
 */

const core: [string, string][] = [[coreHours.from, coreHours.until]];
const englandCoreHours: OpeningHours = { mon: core, tue: core, wed: core, thu: core, fri: core };

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      hour: 'numeric',
      minute: '2-digit',
      hourCycle: 'h12',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** e.g. "8:00am on Monday 30 November", on the practice's wall clock. */
export function openingWords(at: Date, timezone: string): string {
  const parts = formatterFor(timezone).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('hour')}:${get('minute')}${get('dayPeriod').toLowerCase()} on ${get('weekday')} ${get('day')} ${get('month')}`;
}

const getHelpNow = 'If you need help before then, call NHS 111. In an emergency, call 999.';

/** Null while the practice is in hours at `now`; otherwise when it next is, and a sentence saying so. */
export function practiceClosedNotice(
  practice: { nation: Nation; openingHours: OpeningHours; timezone: string },
  now: Date,
): PatientReplySent['practiceClosed'] {
  const hours = practice.nation === 'england' ? englandCoreHours : practice.openingHours;
  const opensAt = nextOpening(hours, practice.timezone, now, bankHolidaysIn(practice.nation));
  if (opensAt?.getTime() === now.getTime()) return null;
  if (!opensAt)
    return {
      opensAt: null,
      message: `Your surgery is closed now, and has not said when it will next open. ${getHelpNow}`,
    };
  return {
    opensAt: opensAt.toISOString(),
    message: `Your surgery is closed now. They will read your message from ${openingWords(opensAt, practice.timezone)}. ${getHelpNow}`,
  };
}
