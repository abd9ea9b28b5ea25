/**
 * UK bank holidays, as data per nation with the years it covers (`bank-holidays.json`, copied from
 * GOV.UK's own list: see its `source`). Bank holidays are set each year by proclamation, so no rule
 * computes them: the data must be renewed before it runs out, and the service warns admins months
 * ahead (`bankHolidayDataWarning`).
 * See: https://www.gov.uk/bank-holidays (and its JSON, https://www.gov.uk/bank-holidays.json)
 */
import { readFileSync } from 'node:fs';

/** The UK nations a practice can be in: England's GP contract (core hours) applies to England only. */
export const nations = ['england', 'wales', 'scotland', 'northern-ireland'] as const;
export type Nation = (typeof nations)[number];

/** GOV.UK's divisions: England and Wales share one list. */
export type BankHolidayDivision = 'england-and-wales' | 'scotland' | 'northern-ireland';

export interface BankHoliday {
  /** The practice's calendar date, e.g. `2026-12-28`. */
  date: string;
  title: string;
  /** "Substitute day" when the holiday moved off a weekend. */
  notes?: string;
}

export interface BankHolidayList {
  /** The first and last dates the list is complete for (inclusive). */
  coversFrom: string;
  coversUntil: string;
  events: BankHoliday[];
}

interface BankHolidayData {
  source: string;
  divisions: Record<BankHolidayDivision, BankHolidayList>;
}

const data = JSON.parse(
  readFileSync(new URL('./bank-holidays.json', import.meta.url), 'utf8'),
) as BankHolidayData;

const datesByDivision = new Map(
  Object.entries(data.divisions).map(([division, list]) => [
    division as BankHolidayDivision,
    new Set(list.events.map((event) => event.date)),
  ]),
);

/** Where the data came from, in words. */
export const bankHolidaySource = data.source;

export function divisionOf(nation: Nation): BankHolidayDivision {
  return nation === 'england' || nation === 'wales' ? 'england-and-wales' : nation;
}

/** The nation's list, with the years it covers. */
export function bankHolidays(nation: Nation): BankHolidayList {
  return data.divisions[divisionOf(nation)];
}

/**
 * Whether the practice's calendar date is a bank holiday in its nation. A date past the data's end
 * counts as an ordinary day: the form then stays open rather than closing on a guess (and admins
 * have been warned for months that the data is running out).
 */
export function isBankHoliday(nation: Nation, date: string): boolean {
  return datesByDivision.get(divisionOf(nation))?.has(date) ?? false;
}

/** The last date every nation's list covers: the data is only as good as its shortest list. */
export function bankHolidaysCoverUntil(): string {
  return Object.values(data.divisions)
    .map((list) => list.coversUntil)
    .sort()[0]!;
}

/** How long before the data runs out admins are warned: time to get and ship the next year's list. */
export const warnMonthsBeforeEnd = 6;

/**
 * What admins are told when the bank-holiday data ends within `warnMonthsBeforeEnd` months of
 * `now` (or has ended); null while it has longer to run.
 */
export function bankHolidayDataWarning(now: Date): string | null {
  const coversUntil = bankHolidaysCoverUntil();
  const warnFrom = new Date(`${coversUntil}T00:00:00Z`);
  warnFrom.setUTCMonth(warnFrom.getUTCMonth() - warnMonthsBeforeEnd);
  if (now < warnFrom) return null;
  const ended = now > new Date(`${coversUntil}T23:59:59Z`);
  return `${ended ? 'The bank holiday dates this service knows ended on' : 'The bank holiday dates this service knows end on'} ${formatDate(coversUntil)}. After that, bank holidays are treated as ordinary working days (the form stays open in core hours) until the service is updated with the next year's dates from GOV.UK.`;
}

/** e.g. "31 December 2028" (en-GB), for a calendar date. */
function formatDate(date: string): string {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** Logs the warning once (at start) when the data runs out within `warnMonthsBeforeEnd` months. */
export function warnIfBankHolidaysEnding(
  log: { warn: (details: object, message: string) => void },
  now: Date,
): void {
  const warning = bankHolidayDataWarning(now);
  if (warning) log.warn({ bankHolidaysCoverUntil: bankHolidaysCoverUntil() }, warning);
}

/** For `nextOpening(hours, timezone, now, closedOn)` in practice-hours.ts: the nation's bank holidays. */
export const bankHolidaysIn =
  (nation: Nation) =>
  (date: string): boolean =>
    isBankHoliday(nation, date);
