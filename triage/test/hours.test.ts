import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  availabilityAt,
  inCoreHours,
  nextOpeningAt,
  nextWorkingDay,
  type PracticeHours,
} from '../src/hours/availability';
import {
  bankHolidayDataWarning,
  bankHolidays,
  bankHolidaysCoverUntil,
  isBankHoliday,
  nations,
} from '../src/hours/bank-holidays';

const england: PracticeHours = {
  nation: 'england',
  timezone: 'Europe/London',
  openingHours: {},
  outOfHours: 'closed',
  responseTimeMessage: null,
  dailyCapacity: 100,
};
const weekdays = {
  mon: [['08:00', '18:00']],
  tue: [['08:00', '18:00']],
  wed: [['08:00', '18:00']],
  thu: [['08:00', '18:00']],
  fri: [['08:00', '18:00']],
} as PracticeHours['openingHours'];
const scotland: PracticeHours = { ...england, nation: 'scotland', openingHours: weekdays };
const northernIreland: PracticeHours = { ...england, nation: 'northern-ireland', openingHours: weekdays };
const quiet = { submittedToday: 0 };

/** Easter Sunday by the anonymous Gregorian computus (Meeus/Jones/Butcher). */
function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
const addDays = (date: string, days: number) => {
  const at = new Date(`${date}T12:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
};
const weekdayOf = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();

describe('England’s core hours', () => {
  it('are 08:00 until 18:30 on weekdays: 18:29 is in, 18:30 is out, 07:59 is out', () => {
    // Monday 12 January 2026 (GMT)
    assert.equal(inCoreHours(england, new Date('2026-01-12T07:59:00Z')), false);
    assert.equal(inCoreHours(england, new Date('2026-01-12T08:00:00Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-01-12T18:29:00Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-01-12T18:29:59Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-01-12T18:30:00Z')), false);
    // Saturday 17 January 2026 at 10:00
    assert.equal(inCoreHours(england, new Date('2026-01-17T10:00:00Z')), false);
  });

  it('follow the practice’s wall clock across the clock changes', () => {
    // Monday 13 July 2026 (BST): 08:00 is 07:00 UTC, 18:30 is 17:30 UTC
    assert.equal(inCoreHours(england, new Date('2026-07-13T06:59:00Z')), false);
    assert.equal(inCoreHours(england, new Date('2026-07-13T07:00:00Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-07-13T17:29:00Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-07-13T17:30:00Z')), false);
    // Monday 30 March 2026, the day after the clocks went forward
    assert.equal(inCoreHours(england, new Date('2026-03-30T07:00:00Z')), true);
    // Friday 23 October 2026 (BST) and Monday 26 October 2026 (GMT), either side of the change back
    assert.equal(inCoreHours(england, new Date('2026-10-23T17:29:00Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-10-26T18:29:00Z')), true);
    assert.equal(inCoreHours(england, new Date('2026-10-26T07:59:00Z')), false);
  });

  it('are not core hours on a bank holiday in England, and never apply outside England', () => {
    // Easter Monday 6 April 2026, Boxing Day (substitute) Monday 28 December 2026, 10:00
    assert.equal(inCoreHours(england, new Date('2026-04-06T09:00:00Z')), false);
    assert.equal(inCoreHours(england, new Date('2026-12-28T10:00:00Z')), false);
    assert.equal(inCoreHours(england, new Date('2026-12-29T10:00:00Z')), true);
    assert.equal(inCoreHours(scotland, new Date('2026-01-12T10:00:00Z')), false);
  });

  it('keep the form open past the day’s capacity, telling the patient the reply comes the next working day', () => {
    // Friday 24 December 2027, 10:00: the next working day is Wednesday 29 December (27th, 28th are substitutes)
    const busy = availabilityAt(england, new Date('2027-12-24T10:00:00Z'), { submittedToday: 100 });
    assert.equal(busy.state, 'open');
    assert.ok(busy.state === 'open' && busy.busy && busy.coreHours);
    assert.equal(busy.state === 'open' && busy.replyBy, '2027-12-29');
    assert.match(busy.message, /a lot of requests today.*next working day, Wednesday 29 December/);
    const calm = availabilityAt(england, new Date('2027-12-24T10:00:00Z'), quiet);
    assert.equal(calm.state === 'open' && calm.replyBy, '2027-12-24');
    const ownWords = availabilityAt(
      { ...england, responseTimeMessage: 'We reply within 2 hours.' },
      new Date('2027-12-24T10:00:00Z'),
      quiet,
    );
    assert.equal(ownWords.message, 'We reply within 2 hours.');
  });

  it('outside core hours follow the practice’s choice: closed with 111 advice and when it opens, or open with the time stated', () => {
    const saturday = new Date('2026-07-11T10:00:00Z');
    const closed = availabilityAt(england, saturday, quiet);
    assert.equal(closed.state, 'closed');
    assert.match(closed.message, /111/);
    assert.match(closed.message, /opens again 8am on Monday 13 July/);
    assert.equal(closed.state === 'closed' && closed.opensAt?.toISOString(), '2026-07-13T07:00:00.000Z');
    const open = availabilityAt({ ...england, outOfHours: 'open' }, saturday, quiet);
    assert.equal(open.state, 'open-out-of-hours');
    assert.equal(open.state === 'open-out-of-hours' && open.replyBy, '2026-07-13');
    assert.match(open.message, /when it opens, 8am on Monday 13 July/);
    // 18:30 on a Monday evening: it opens at 8am tomorrow
    const evening = availabilityAt(
      { ...england, outOfHours: 'open' },
      new Date('2026-07-13T17:30:00Z'),
      quiet,
    );
    assert.match(evening.message, /8am tomorrow/);
  });

  it('a pause in force beats everything, and is over at its until', () => {
    const at = new Date('2026-07-13T09:00:00Z');
    const paused = availabilityAt(england, at, {
      submittedToday: 0,
      pause: { until: new Date('2026-07-13T13:00:00Z') },
    });
    assert.equal(paused.state, 'paused');
    assert.match(paused.message, /paused online requests until 2pm today.*111/);
    const over = availabilityAt(england, new Date('2026-07-13T13:00:00Z'), {
      submittedToday: 0,
      pause: { until: new Date('2026-07-13T13:00:00Z') },
    });
    assert.equal(over.state, 'open');
  });
});

describe('practices outside England', () => {
  it('Scotland’s 2 January is a bank holiday and England’s is not', () => {
    // Friday 2 January 2026, 10:00
    const second = new Date('2026-01-02T10:00:00Z');
    assert.equal(isBankHoliday('scotland', '2026-01-02'), true);
    assert.equal(isBankHoliday('england', '2026-01-02'), false);
    assert.equal(availabilityAt(england, second, quiet).state, 'open');
    assert.equal(availabilityAt(scotland, second, quiet).state, 'closed');
    assert.equal(
      availabilityAt({ ...scotland, outOfHours: 'open' }, second, quiet).state,
      'open-out-of-hours',
    );
    // and it is skipped when working out when the practice opens: Monday 5 January
    assert.equal(
      nextOpeningAt(scotland, new Date('2026-01-01T10:00:00Z'))?.toISOString(),
      '2026-01-05T08:00:00.000Z',
    );
    assert.equal(
      nextOpeningAt(england, new Date('2026-01-01T10:00:00Z'))?.toISOString(),
      '2026-01-02T08:00:00.000Z',
    );
  });

  it('Northern Ireland closes on St Patrick’s Day and the Twelfth, England and Scotland do not', () => {
    assert.equal(availabilityAt(northernIreland, new Date('2026-03-17T10:00:00Z'), quiet).state, 'closed');
    assert.equal(availabilityAt(scotland, new Date('2026-03-17T10:00:00Z'), quiet).state, 'open');
    assert.equal(
      isBankHoliday('northern-ireland', '2026-07-13'),
      true,
      'the Twelfth falls on a Sunday: Monday 13th',
    );
    assert.equal(isBankHoliday('england', '2026-07-13'), false);
    // Scotland's summer bank holiday is the first Monday of August, England's the last
    assert.equal(isBankHoliday('scotland', '2026-08-03'), true);
    assert.equal(isBankHoliday('england', '2026-08-03'), false);
    assert.equal(isBankHoliday('england', '2026-08-31'), true);
    assert.equal(isBankHoliday('scotland', '2026-08-31'), false);
    assert.equal(isBankHoliday('wales', '2026-08-31'), true, 'Wales shares England’s list');
  });

  it('keep their own hours and their daily limit', () => {
    // Monday 12 January 2026: 18:15 is past Scotland's 18:00 close but within England's core hours
    assert.equal(availabilityAt(scotland, new Date('2026-01-12T18:15:00Z'), quiet).state, 'closed');
    assert.equal(availabilityAt(england, new Date('2026-01-12T18:15:00Z'), quiet).state, 'open');
    const full = availabilityAt(scotland, new Date('2026-01-12T10:00:00Z'), { submittedToday: 100 });
    assert.ok(full.state === 'closed' && full.reason === 'capacity');
    assert.match(full.message, /cannot take more online requests today.*opens again 8am tomorrow/);
    assert.equal(nextWorkingDay(scotland, '2026-12-24'), '2026-12-29');
  });
});

describe('the bank-holiday data', () => {
  it('covers 2025 to 2028 for every nation, with a coversUntil', () => {
    assert.equal(bankHolidaysCoverUntil(), '2028-12-31');
    for (const nation of nations) {
      const list = bankHolidays(nation);
      assert.equal(list.coversFrom, '2025-01-01');
      assert.equal(list.coversUntil, '2028-12-31');
      for (const year of [2025, 2026, 2027, 2028]) {
        const count = list.events.filter((event) => event.date.startsWith(`${year}-`)).length;
        assert.ok(count >= 8, `${nation} ${year}: ${count} bank holidays`);
      }
      for (const event of list.events) {
        assert.ok(event.date >= list.coversFrom && event.date <= list.coversUntil, event.date);
        assert.ok(![0, 6].includes(weekdayOf(event.date)), `${nation} ${event.date} is a weekday`);
      }
    }
  });

  it('agrees with Easter by the computus and with the substitute-day rule for Christmas and New Year', () => {
    for (const year of [2025, 2026, 2027, 2028]) {
      const easter = easterSunday(year);
      for (const nation of nations)
        assert.ok(isBankHoliday(nation, addDays(easter, -2)), `${nation} Good Friday ${year}`);
      for (const nation of ['england', 'wales', 'northern-ireland'] as const)
        assert.ok(isBankHoliday(nation, addDays(easter, 1)), `${nation} Easter Monday ${year}`);
      assert.equal(
        isBankHoliday('scotland', addDays(easter, 1)),
        false,
        `Scotland has no Easter Monday ${year}`,
      );
    }
    // 26 December 2026 is a Saturday: Boxing Day moves to Monday 28th
    assert.equal(isBankHoliday('england', '2026-12-28'), true);
    assert.equal(isBankHoliday('england', '2026-12-26'), false);
    // 25 and 26 December 2027 are a weekend: Monday 27th and Tuesday 28th
    assert.equal(isBankHoliday('england', '2027-12-27'), true);
    assert.equal(isBankHoliday('england', '2027-12-28'), true);
    assert.equal(isBankHoliday('scotland', '2027-12-28'), true);
    // 1 January 2028 is a Saturday: Monday 3rd; Scotland's 2 January moves to Tuesday 4th
    assert.equal(isBankHoliday('england', '2028-01-03'), true);
    assert.equal(isBankHoliday('scotland', '2028-01-04'), true);
    assert.equal(isBankHoliday('england', '2028-01-04'), false);
    // 2 January 2027 is a Saturday: Scotland's holiday is Monday 4th
    assert.equal(isBankHoliday('scotland', '2027-01-04'), true);
    for (const nation of nations) {
      for (const event of bankHolidays(nation).events.filter(
        (candidate) => candidate.notes === 'Substitute day',
      )) {
        assert.ok(
          [1, 2].includes(weekdayOf(event.date)),
          `${nation} substitute ${event.date} is a Monday or Tuesday`,
        );
      }
    }
  });

  it('warns admins within 6 months of its end, and not before', () => {
    assert.equal(bankHolidayDataWarning(new Date('2026-11-27T12:00:00Z')), null);
    assert.equal(bankHolidayDataWarning(new Date('2028-06-30T12:00:00Z')), null);
    assert.match(bankHolidayDataWarning(new Date('2028-07-01T00:00:00Z')) ?? '', /end on 31 December 2028/);
    assert.match(bankHolidayDataWarning(new Date('2029-01-02T00:00:00Z')) ?? '', /ended on 31 December 2028/);
  });
});
