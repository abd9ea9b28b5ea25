import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextOpening, type OpeningHours } from '../src/practice-hours';
import { openingWords, practiceClosedNotice } from '../src/reply-hours';

const london = 'Europe/London';
const weekdays: OpeningHours = {
  mon: [['08:00', '18:30']],
  tue: [['08:00', '18:30']],
  wed: [['08:00', '18:30']],
  thu: [['08:00', '18:30']],
  fri: [
    ['08:00', '12:00'],
    ['14:00', '18:30'],
  ],
};

describe('when a closed practice next opens, on its own wall clock', () => {
  it('is now while it is open, and the next period’s start when it is not', () => {
    const mondayTen = new Date('2026-11-30T10:00:00Z');
    assert.equal(nextOpening(weekdays, london, mondayTen), mondayTen);
    // Monday 18:30 GMT: closed until Tuesday 08:00
    assert.equal(
      nextOpening(weekdays, london, new Date('2026-11-30T18:30:00Z'))?.toISOString(),
      '2026-12-01T08:00:00.000Z',
    );
    // Friday lunchtime: the afternoon session the same day
    assert.equal(
      nextOpening(weekdays, london, new Date('2026-12-04T12:30:00Z'))?.toISOString(),
      '2026-12-04T14:00:00.000Z',
    );
    // Saturday: Monday morning
    assert.equal(
      nextOpening(weekdays, london, new Date('2026-11-28T10:00:00Z'))?.toISOString(),
      '2026-11-30T08:00:00.000Z',
    );
  });

  it('is right across the clocks changing', () => {
    // Saturday 28 March 2026 (GMT) → Monday 30 March 08:00 BST, which is 07:00 UTC
    assert.equal(
      nextOpening(weekdays, london, new Date('2026-03-28T12:00:00Z'))?.toISOString(),
      '2026-03-30T07:00:00.000Z',
    );
    // Saturday 24 October 2026 (BST) → Monday 26 October 08:00 GMT
    assert.equal(
      nextOpening(weekdays, london, new Date('2026-10-24T12:00:00Z'))?.toISOString(),
      '2026-10-26T08:00:00.000Z',
    );
  });

  it('skips the days it is told are closed, such as bank holidays', () => {
    // Christmas Eve 2026 (Thursday) evening; Friday 25 and Monday 28 December are bank holidays
    const holidays = new Set(['2026-12-25', '2026-12-28']);
    assert.equal(
      nextOpening(weekdays, london, new Date('2026-12-24T19:00:00Z'), (date) =>
        holidays.has(date),
      )?.toISOString(),
      '2026-12-29T08:00:00.000Z',
    );
    // open hours on a closed day do not count as open
    const boxingDayHours: OpeningHours = { ...weekdays, sat: [['09:00', '12:00']] };
    const saturday = new Date('2026-12-26T10:00:00Z');
    assert.notEqual(
      nextOpening(boxingDayHours, london, saturday, (date) => date === '2026-12-26'),
      saturday,
    );
  });

  it('is undefined for a practice with no hours in the next two weeks', () => {
    assert.equal(nextOpening({}, london, new Date('2026-11-30T10:00:00Z')), undefined);
  });
});

describe('what a patient replying out of hours is told', () => {
  it('says the time and day in en-GB words on the practice’s clock', () => {
    assert.equal(openingWords(new Date('2026-11-30T08:00:00Z'), london), '8:00am on Monday 30 November');
    assert.equal(openingWords(new Date('2026-12-04T14:00:00Z'), london), '2:00pm on Friday 4 December');
    assert.equal(openingWords(new Date('2026-07-15T07:00:00Z'), london), '8:00am on Wednesday 15 July');
  });

  it('is nothing while open, and gives 111 advice when no opening is known', () => {
    const practice = { nation: 'wales' as const, openingHours: weekdays, timezone: london };
    assert.equal(practiceClosedNotice(practice, new Date('2026-11-30T10:00:00Z')), null);
    const never = practiceClosedNotice({ ...practice, openingHours: {} }, new Date('2026-11-30T10:00:00Z'));
    assert.equal(never?.opensAt, null);
    assert.match(never?.message ?? '', /closed now.*NHS 111/);
  });

  it('reckons by England’s core hours in England, whatever the practice’s own hours, and skips bank holidays', () => {
    const roundTheClock: OpeningHours = Object.fromEntries(
      ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [day, [['00:00', '24:00']]]),
    );
    const england = { nation: 'england' as const, openingHours: roundTheClock, timezone: london };
    // Christmas Eve 2026, 19:00: Christmas Day and Boxing Day (substitute Monday 28th) are bank holidays
    const notice = practiceClosedNotice(england, new Date('2026-12-24T19:00:00Z'));
    assert.equal(notice?.opensAt, '2026-12-29T08:00:00.000Z');
    assert.match(notice?.message ?? '', /from 8:00am on Tuesday 29 December\./);
    // a practice in Wales open round the clock is in hours then
    assert.equal(
      practiceClosedNotice({ ...england, nation: 'wales' }, new Date('2026-12-23T19:00:00Z')),
      null,
    );
  });
});
