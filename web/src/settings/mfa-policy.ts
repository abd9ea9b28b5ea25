import type { MfaPolicy, StaffRole } from '@gpc/contracts';
import { byId, element } from '../shared/nhsuk';

/**
 * The practice's two-factor authentication policy on the settings page: which roles must sign in
 * with a code from an authenticator app (those who have not set it up are led through it at their
 * next sign-in). Renders the checkboxes and reads them back; settings-page.ts saves.
 */

const roles: readonly { role: StaffRole; label: string }[] = [
  { role: 'admin', label: 'Admins' },
  { role: 'clinician', label: 'Clinicians' },
  { role: 'reception', label: 'Receptionists' },
];

export function renderMfaPolicy(policy: MfaPolicy): void {
  byId('mfa-policy-options').replaceChildren(
    ...roles.map(({ role, label }) => {
      const id = `mfa-required-${role}`;
      const input = element('input', {
        class: 'nhsuk-checkboxes__input',
        id,
        name: 'mfaRequiredRoles',
        type: 'checkbox',
        value: role,
      });
      input.checked = policy.requiredRoles.includes(role);
      const item = element('div', { class: 'nhsuk-checkboxes__item' });
      item.append(input, element('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: id }, label));
      return item;
    }),
  );
}

export function readMfaPolicy(): MfaPolicy {
  return {
    requiredRoles: roles
      .filter(({ role }) => byId<HTMLInputElement>(`mfa-required-${role}`).checked)
      .map(({ role }) => role),
  };
}

/** What the banner says once saved. */
export function mfaPolicySaved({ requiredRoles }: MfaPolicy): string {
  const names = roles
    .filter(({ role }) => requiredRoles.includes(role))
    .map(({ label }) => label.toLowerCase());
  return names.length === 0
    ? 'Two-factor authentication is now optional for everyone'
    : `Two-factor authentication is now required for ${names.join(' and ')}`;
}
