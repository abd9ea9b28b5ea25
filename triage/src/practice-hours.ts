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

const weekdayKeys = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** The calendar date `days` after `date` (both `YYYY-MM-DD`), and its weekday. */
function calendarDay(date: string, days: number): { date: string; weekday: keyof OpeningHours } {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const at = new Date(Date.UTC(year, month - 1, day + days));
  return { date: at.toISOString().slice(0, 10), weekday: weekdayKeys[at.getUTCDay()]! };
}

/** The instant the practice's wall clock reads `time` on `date`, across clock changes too. */
function wallClockInstant(timezone: string, date: string, time: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // the zone's offset at a guess, then at the instant that guess gives (they differ near a clock change)
  const offsetAt = (at: number) => {
    const local = localParts(timezone, new Date(at));
    return Date.parse(`${local.date}T${local.time}:00Z`) - Math.floor(at / 60_000) * 60_000;
  };
  const guess = wall - offsetAt(wall);
  return new Date(wall - offsetAt(guess));
}

/**
 * When the practice next opens, on its own wall clock: `now` itself while it is open, otherwise the
 * start of its next opening period; undefined when it has none in the next 14 days. `closedOn` closes
 * whole calendar days of the practice (`YYYY-MM-DD`), e.g. bank holidays; none by default.
 */
export function nextOpening(
  hours: OpeningHours,
  timezone: string,
  now: Date,
  closedOn: (date: string) => boolean = () => false,
): Date | undefined {
  const today = localDate(timezone, now);
  if (!closedOn(today) && isOpen(hours, timezone, now)) return now;
  for (let days = 0; days <= 14; days++) {
    const { date, weekday } = calendarDay(today, days);
    if (closedOn(date)) continue;
    const starts = (hours[weekday] ?? [])
      .filter(([from, to]) => from < to)
      .map(([from]) => from)
      .sort();
    for (const from of starts) {
      const start = wallClockInstant(timezone, date, from);
      if (start > now) return start;
    }
  }
  return undefined;
}
