import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StaffMemberView } from '@gpc/contracts';
import { newMemberFrom, sortedStaff } from '../src/staff-admin/state';

const person = (name: string, active: boolean): StaffMemberView => ({
  id: name,
  email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.org`,
  name,
  role: 'clinician',
  active,
});

describe('the staff admin page’s rules', () => {
  it('lists staff with access first, then those stopped, each by name', () => {
    const listed = sortedStaff([person('Zara', true), person('Adam', false), person('Beth', true)]);
    assert.deepEqual(
      listed.map((member) => member.name),
      ['Beth', 'Zara', 'Adam'],
    );
  });

  it('takes a new member with their name and email trimmed, and names each field that is wrong', () => {
    assert.deepEqual(
      newMemberFrom({
        name: ' Dr Ada ',
        email: ' ada@example.org ',
        role: 'admin',
        password: 'twelve chars',
      }),
      { member: { name: 'Dr Ada', email: 'ada@example.org', role: 'admin', password: 'twelve chars' } },
    );
    const wrong = newMemberFrom({ name: ' ', email: 'ada', role: 'owner', password: 'short' });
    assert.ok('errors' in wrong);
    assert.deepEqual(
      wrong.errors.map((error) => error.fieldId),
      ['new-name', 'new-email', 'new-role-admin', 'new-password'],
    );
  });
});
