import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOpen, localDate, type OpeningHours } from '../src/practice-hours';

const weekdays: OpeningHours = {
  mon: [['08:00', '18:30']],
  fri: [
    ['08:00', '12:00'],
    ['14:00', '18:30'],
  ],
  sun: [['08:00', '09:00']],
};

describe('opening hours in Europe/London', () => {
  it('follows the wall clock in winter (GMT) and summer (BST)', () => {
    // Monday 12 January 2026, 07:59 and 08:00 GMT
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-01-12T07:59:00Z')), false);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-01-12T08:00:00Z')), true);
    // Monday 13 July 2026: 08:00 BST is 07:00 UTC
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-07-13T06:59:00Z')), false);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-07-13T07:00:00Z')), true);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-07-13T17:29:00Z')), true);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-07-13T17:30:00Z')), false);
  });

  it('is right on the days the clocks change', () => {
    // Sunday 29 March 2026: clocks go forward at 01:00 UTC; 08:00 BST is 07:00 UTC
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-03-29T07:00:00Z')), true);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-03-29T06:59:00Z')), false);
    // Sunday 25 October 2026: clocks go back at 01:00 UTC; 08:00 GMT is 08:00 UTC
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-10-25T07:59:00Z')), false);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-10-25T08:00:00Z')), true);
  });

  it('handles split sessions, closed days and the local date near midnight', () => {
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-01-16T13:00:00Z')), false);
    assert.equal(isOpen(weekdays, 'Europe/London', new Date('2026-01-16T14:00:00Z')), true);
    assert.equal(
      isOpen(weekdays, 'Europe/London', new Date('2026-01-13T10:00:00Z')),
      false,
      'Tuesday is closed here',
    );
    assert.equal(localDate('Europe/London', new Date('2026-07-13T23:30:00Z')), '2026-07-14');
    assert.equal(localDate('Europe/London', new Date('2026-01-13T23:30:00Z')), '2026-01-13');
  });
});
