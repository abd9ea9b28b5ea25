import type { NewStaffMember, StaffMemberView, StaffRole } from '@gpc/contracts';
import type { FieldError } from '../shared/nhsuk';

/**
 * What the staff admin page shows, worked out from the API's answers and what the admin typed: no
 * DOM, no requests, so each rule is tested on its own.
 */

export const roles: { value: StaffRole; label: string }[] = [
  { value: 'admin', label: 'Admin' },
  { value: 'clinician', label: 'Clinician' },
  { value: 'reception', label: 'Reception' },
];

export const roleLabel = (role: StaffRole): string => roles.find((r) => r.value === role)?.label ?? role;

/** Staff with access first, then those stopped; each group by name. */
export function sortedStaff(members: StaffMemberView[]): StaffMemberView[] {
  return [...members].sort(
    (a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name, 'en-GB'),
  );
}

/** The first password's shortest length, as the API requires. */
export const minimumPasswordLength = 12;

/** The new member as the API takes them, or the problems with what was typed (field ids of staff-admin.html). */
export function newMemberFrom(typed: {
  name: string;
  email: string;
  role: string;
  password: string;
}): { member: NewStaffMember } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const name = typed.name.trim();
  const email = typed.email.trim();
  if (!name) errors.push({ fieldId: 'new-name', text: 'Enter their full name' });
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    errors.push({
      fieldId: 'new-email',
      text: 'Enter an email address in the correct format, like name@example.com',
    });
  const role = roles.find((r) => r.value === typed.role)?.value;
  if (!role) errors.push({ fieldId: 'new-role-admin', text: 'Select their role' });
  if (typed.password.length < minimumPasswordLength)
    errors.push({
      fieldId: 'new-password',
      text: `Enter a first password of at least ${minimumPasswordLength} characters`,
    });
  if (errors.length > 0 || !role) return { errors };
  return { member: { name, email, role, password: typed.password } };
}
