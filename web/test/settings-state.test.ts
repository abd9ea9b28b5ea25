import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fromWallClock,
  minutesInWords,
  moveRule,
  openingHoursFrom,
  wallClockValue,
  weekdays,
  type PeriodDraft,
  type Weekday,
} from '../src/settings/state';

/** A draft of opening hours: the periods typed for some days, every other day closed. */
function draft(days: Partial<Record<Weekday, [string, string][]>>): Record<Weekday, PeriodDraft[]> {
  const result = {} as Record<Weekday, PeriodDraft[]>;
  for (const { day } of weekdays)
    result[day] = (days[day] ?? []).map(([from, to], index) => ({
      from: { id: `${day}-${index}-from`, value: from },
      to: { id: `${day}-${index}-to`, value: to },
    }));
  return result;
}

describe('practice settings page: what an admin types, before it is sent', () => {
  it('reads a pause’s end on the practice’s clock, not the browser’s, either side of a clock change', () => {
    // London is on GMT in winter and BST (UTC+1) in summer, whatever the computer's own zone
    assert.equal(
      fromWallClock('2026-01-15T12:00', 'Europe/London')?.toISOString(),
      '2026-01-15T12:00:00.000Z',
    );
    assert.equal(
      fromWallClock('2026-07-13T12:00', 'Europe/London')?.toISOString(),
      '2026-07-13T11:00:00.000Z',
    );
    // the evening the clocks go back, and the morning they go forward
    assert.equal(
      fromWallClock('2026-10-25T18:00', 'Europe/London')?.toISOString(),
      '2026-10-25T18:00:00.000Z',
    );
    assert.equal(
      fromWallClock('2026-03-29T09:00', 'Europe/London')?.toISOString(),
      '2026-03-29T08:00:00.000Z',
    );
    assert.equal(fromWallClock('', 'Europe/London'), undefined);
    assert.equal(fromWallClock('13/07/2026 12:00', 'Europe/London'), undefined);
  });

  it('shows a moment as the practice’s clock does, and reads it back to the same minute', () => {
    const at = new Date('2026-07-13T08:05:00Z');
    assert.equal(wallClockValue(at, 'Europe/London'), '2026-07-13T09:05');
    assert.equal(
      fromWallClock(wallClockValue(at, 'Europe/London'), 'Europe/London')?.getTime(),
      at.getTime(),
    );
  });

  it('takes times typed loosely, names each one that is not a time, and sends closed days as closed', () => {
    const { hours, errors } = openingHoursFrom(
      draft({
        mon: [['8:00', '1830']],
        tue: [
          ['08:00', '12:00'],
          ['eight', '18:00'],
        ],
        sat: [['09:00', '24:00']],
      }),
    );
    assert.deepEqual(hours.mon, [['08:00', '18:30']]);
    assert.deepEqual(hours.sat, [['09:00', '24:00']]);
    assert.deepEqual(hours.sun, []);
    assert.deepEqual(errors, [
      {
        fieldId: 'tue-1-from',
        text: 'Tuesday, period 2: enter the opening time as hours and minutes, like 08:00',
      },
    ]);
    // a period that ends before it starts is the server's rule, not checked twice
    assert.deepEqual(openingHoursFrom(draft({ wed: [['18:00', '08:00']] })).errors, []);
  });

  it('moves a navigation rule up or down one place, and leaves the list as it was at either end', () => {
    const rules = [{ assignTo: 'a' }, { assignTo: 'b' }, { assignTo: 'c' }];
    assert.deepEqual(
      moveRule(rules, 2, -1).map((rule) => rule.assignTo),
      ['a', 'c', 'b'],
    );
    assert.deepEqual(
      moveRule(rules, 0, 1).map((rule) => rule.assignTo),
      ['b', 'a', 'c'],
    );
    assert.equal(moveRule(rules, 0, -1), rules);
    assert.equal(moveRule(rules, 2, 1), rules);
  });

  it('says response targets as a person would', () => {
    assert.equal(minutesInWords(60), '1 hour');
    assert.equal(minutesInWords(2880), '2 days');
    assert.equal(minutesInWords(1830), '1 day 6 hours 30 minutes');
  });
});
