import type { StaffMemberView, StaffRole } from '@gpc/contracts';
import { byId, element } from '../shared/nhsuk';
import { roleLabel, roles } from './state';

/** What each row's controls do; the page (staff-admin-page.ts) runs them. */
export interface StaffRowActions {
  changeRole: (member: StaffMemberView, role: StaffRole) => void;
  askToStop: (member: StaffMemberView) => void;
  restart: (member: StaffMemberView) => void;
  resetPassword: (member: StaffMemberView) => void;
  resetMfa: (member: StaffMemberView) => void;
}

/** A small button whose accessible name says whom it acts on ("Reset password for Dr Ada Lovelace"). */
function rowButton(
  label: string,
  member: StaffMemberView,
  onClick: () => void,
  variant: 'secondary' | 'warning' = 'secondary',
): HTMLButtonElement {
  const button = element('button', {
    class: `nhsuk-button nhsuk-button--small nhsuk-button--${variant}`,
    type: 'button',
  });
  button.append(label, element('span', { class: 'nhsuk-u-visually-hidden' }, ` for ${member.name}`));
  button.addEventListener('click', onClick);
  return button;
}

/** The role, as a select with its own "Change role" button (so a slip of the keyboard changes nothing). */
function roleControl(member: StaffMemberView, actions: StaffRowActions): HTMLElement {
  const group = element('div', { class: 'gpc-role' });
  const id = `role-${member.id}`;
  const select = element('select', { class: 'nhsuk-select', id });
  for (const role of roles)
    select.append(new Option(role.label, role.value, false, role.value === member.role));
  const label = element('label', { class: 'nhsuk-u-visually-hidden', for: id }, `Role for ${member.name}`);
  const change = rowButton('Change role', member, () => {
    const chosen = roles.find((role) => role.value === select.value)?.value;
    if (chosen && chosen !== member.role) actions.changeRole(member, chosen);
  });
  group.append(label, select, change);
  return group;
}

function row(
  member: StaffMemberView,
  myId: string | undefined,
  actions: StaffRowActions,
): HTMLTableRowElement {
  const me = member.id === myId;
  const tr = element('tr', { class: 'nhsuk-table__row', 'data-staff-id': member.id });
  const cell = (heading: string, ...content: (string | Node)[]) => {
    const td = element('td', { class: 'nhsuk-table__cell' });
    td.append(
      element('span', { class: 'nhsuk-table-responsive__heading', 'aria-hidden': 'true' }, `${heading} `),
    );
    td.append(...content);
    tr.append(td);
  };
  const cis2 = member.signInMethod === 'cis2';
  const who = element('strong', {}, member.name);
  cell(
    'Name',
    who,
    element('br'),
    element('span', { class: 'nhsuk-body-s' }, cis2 ? 'Signs in with NHS CIS2' : member.email),
    ...(me ? [' (you)'] : []),
  );
  // a CIS2 member's role comes from their national roles at each sign-in: a change here would not last
  cell(
    'Role',
    me || !member.active || cis2
      ? `${roleLabel(member.role)}${cis2 ? ' (from NHS CIS2)' : ''}`
      : roleControl(member, actions),
  );
  cell(
    'Access',
    member.active
      ? element('strong', { class: 'nhsuk-tag nhsuk-tag--green' }, 'Has access')
      : element('strong', { class: 'nhsuk-tag nhsuk-tag--grey' }, 'Stopped'),
  );
  const buttons = element('div', { class: 'gpc-row-actions' });
  if (member.active) {
    // CIS2 staff have no password here, and their second factor is CIS2's
    if (!cis2)
      buttons.append(
        rowButton('Reset password', member, () => actions.resetPassword(member)),
        rowButton('Reset MFA', member, () => actions.resetMfa(member)),
      );
    if (!me) buttons.append(rowButton('Stop access', member, () => actions.askToStop(member), 'warning'));
  } else {
    buttons.append(rowButton('Restart access', member, () => actions.restart(member)));
  }
  cell('Actions', buttons);
  return tr;
}

/** The practice's staff, one row each, with what an admin can do to each. */
export function renderStaff(
  members: StaffMemberView[],
  myId: string | undefined,
  actions: StaffRowActions,
): void {
  byId('staff-rows').replaceChildren(...members.map((member) => row(member, myId, actions)));
  byId('staff-count').textContent = `${members.filter((m) => m.active).length} with access, ${
    members.filter((m) => !m.active).length
  } stopped`;
}

/** The question before stopping someone: what it does, and whom it does it to. */
export function showStopQuestion(member: StaffMemberView | undefined): void {
  const panel = byId('confirm-stop');
  panel.hidden = !member;
  if (!member) return;
  byId('confirm-stop-name').textContent = member.name;
  byId('confirm-stop').focus();
}

/** A temporary password, shown once, with whom to give it to; undefined hides it. */
export function showTemporaryPassword(shown: { name: string; password: string } | undefined): void {
  const panel = byId('temporary-password');
  panel.hidden = !shown;
  byId('temporary-password-name').textContent = shown?.name ?? '';
  byId('temporary-password-value').textContent = shown?.password ?? '';
  if (shown) panel.focus();
}

/** The success banner with what was done; no text hides it. */
export function showDone(text?: string): void {
  const banner = byId('success-banner');
  banner.hidden = !text;
  byId('success-text').textContent = text ?? '';
  if (text) banner.focus();
}
