/** Opening hours per weekday, in the practice's own time zone: `{"mon": [["08:00", "18:30"]], ...}`. */
export type OpeningHours = Partial<
  Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', [string, string][]>
>;

// building a formatter costs far more than using one (it was most of a submission's CPU): one per zone
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** The practice's wall clock at `at`: weekday (`mon`…`sun`), `HH:MM` and calendar date. */
export function localParts(timezone: string, at: Date): { weekday: string; time: string; date: string } {
  const parts = formatterFor(timezone).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((part) => part.type === type)?.value ?? '';
  return {
    weekday: get('weekday').toLowerCase().slice(0, 3),
    time: `${get('hour')}:${get('minute')}`,
    date: `${get('year')}-${get('month')}-${get('day')}`,
  };
}

/** Whether `at` falls within the hours, reckoned on the practice's wall clock (so across clock changes too). */
export function isOpen(hours: OpeningHours, timezone: string, at: Date): boolean {
  const { weekday, time } = localParts(timezone, at);
  const ranges = hours[weekday as keyof OpeningHours] ?? [];
  return ranges.some(([from, to]) => from <= time && time < to);
}

/** The practice's calendar date at `at`, e.g. `2026-03-29`. */
export function localDate(timezone: string, at: Date): string {
  return localParts(timezone, at).date;
}
