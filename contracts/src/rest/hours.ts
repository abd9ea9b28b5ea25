import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf } from '../schema';

/**
 * A practice's hours settings (part of `GET`/`PATCH /practice`). England's GP contract 2025/26 keeps
 * the online form open for the whole of core hours (08:00–18:30 on weekdays that are not bank
 * holidays in England and Wales); it applies to practices whose `nation` is `england`, whose
 * `openingHours` are then not used. Practices elsewhere keep their own `openingHours` (closed on
 * their nation's bank holidays) and `dailyCapacity` as a daily limit. In England `dailyCapacity`
 * never refuses a request: past it, patients are told the reply comes the next working day.
 */

/** The UK nation the practice is in. */
export const PracticeNation = OneOf(['england', 'wales', 'scotland', 'northern-ireland']);
export type PracticeNation = Static<typeof PracticeNation>;

/** Outside hours: `open` (the form says when the request will be read) or `closed` (111 advice). */
export const OutOfHours = OneOf(['open', 'closed']);
export type OutOfHours = Static<typeof OutOfHours>;

/** What patients are told in hours about when to expect a reply; null: the service's own words. */
export const ResponseTimeMessage = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' });

/**
 * The bank-holiday dates the service ships (GOV.UK's, per nation): the last date they cover, and
 * (admins) a warning once that is within six months, saying what happens when it passes.
 */
export const BankHolidayDataStatus = Type.Object({
  coversUntil: Type.String({ format: 'date' }),
  warning: Nullable(Type.String()),
});
export type BankHolidayDataStatus = Static<typeof BankHolidayDataStatus>;
