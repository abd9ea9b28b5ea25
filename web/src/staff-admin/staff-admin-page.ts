import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import './staff-admin.css';
import type { StaffMemberView, StaffSession } from '@gpc/contracts';
import { ApiError } from '../shared/api';
import { byId, showErrorSummary, showFieldErrors } from '../shared/nhsuk';
import { showSignedOut, wireSignIn } from '../shared/sign-in';
import { StaffAdminClient } from './api';
import {
  renderStaff,
  showDone,
  showStopQuestion,
  showTemporaryPassword,
  type StaffRowActions,
} from './render';
import { newMemberFrom, roleLabel, sortedStaff } from './state';

/**
 * The staff admin page, for a practice's admins: sign in (or come with the dashboard's session),
 * then the practice's staff: add someone, change their role, stop their access (after a question)
 * or give it back, reset their password (a temporary one, shown once) or their MFA. Everyone else
 * is told they need an admin (triage refuses them too). This file wires the controls to the client
 * (api.ts) and the views (render.ts); it renders nothing itself.
 */

const client = new StaffAdminClient({
  signedOut: () => {
    show('sign-in');
    showSignedOut();
  },
});
let stopping: StaffMemberView | undefined;

function show(section: 'sign-in' | 'not-admin' | 'staff-admin'): void {
  for (const id of ['sign-in', 'not-admin', 'staff-admin']) byId(id).hidden = id !== section;
  byId(section).querySelector('h1')?.focus();
}

/** A refusal in words: the API's own (e.g. a route not there yet says so), or `fallback`. */
function refusalText(error: unknown, fallback: string): string {
  if (!(error instanceof ApiError)) return fallback;
  if (error.status === 401) return 'Your session has ended. Sign in again.';
  return `${fallback}: ${error.message || `the service answered ${error.status}`}`;
}

async function reload(): Promise<void> {
  renderStaff(sortedStaff(await client.members()), client.staff?.id, actions);
}

/** Runs an admin's action, then shows the list again and what was done; a refusal goes to the error summary. */
function act(action: () => Promise<string | undefined>, failure: string): void {
  showErrorSummary();
  void action()
    .then(async (done) => {
      await reload();
      if (done) showDone(done);
    })
    .catch((error: unknown) => {
      showDone();
      showErrorSummary(refusalText(error, failure));
    });
}

const actions: StaffRowActions = {
  changeRole: (member, role) =>
    act(async () => {
      await client.change(member.id, { role });
      return `${member.name} now has the ${roleLabel(role).toLowerCase()} role. They were signed out everywhere and have the new role when they sign in again.`;
    }, `Could not change ${member.name}’s role`),
  askToStop: (member) => {
    stopping = member;
    showDone();
    showTemporaryPassword(undefined);
    showStopQuestion(member);
  },
  restart: (member) =>
    act(async () => {
      await client.change(member.id, { active: true });
      return `${member.name} can sign in again.`;
    }, `Could not give ${member.name} access again`),
  resetPassword: (member) =>
    act(async () => {
      const { temporaryPassword } = await client.resetPassword(member.id);
      showDone();
      showTemporaryPassword({ name: member.name, password: temporaryPassword });
      return undefined;
    }, `Could not reset ${member.name}’s password`),
  resetMfa: (member) =>
    act(async () => {
      await client.resetMfa(member.id);
      return `${member.name}’s two-factor authentication was reset. They set it up again when they next sign in.`;
    }, `Could not reset ${member.name}’s two-factor authentication`),
};

byId('confirm-stop-yes').addEventListener('click', () => {
  const member = stopping;
  stopping = undefined;
  showStopQuestion(undefined);
  if (!member) return;
  act(async () => {
    await client.change(member.id, { active: false });
    return `${member.name}’s access was stopped. They were signed out everywhere, and their calls ended.`;
  }, `Could not stop ${member.name}’s access`);
});
byId('confirm-stop-no').addEventListener('click', () => {
  stopping = undefined;
  showStopQuestion(undefined);
});
byId('temporary-password-done').addEventListener('click', () => showTemporaryPassword(undefined));

byId('add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = (id: string) => byId<HTMLInputElement>(id).value;
  const typed = newMemberFrom({
    name: value('new-name'),
    email: value('new-email'),
    role: document.querySelector<HTMLInputElement>('input[name="new-role"]:checked')?.value ?? '',
    password: value('new-password'),
  });
  if ('errors' in typed) return showFieldErrors(typed.errors);
  showFieldErrors([]);
  act(async () => {
    const added = await client.add(typed.member);
    byId<HTMLFormElement>('add-form').reset();
    return `${added.name} was added with the ${roleLabel(added.role).toLowerCase()} role. Give them their first password in person.`;
  }, 'Could not add them');
});

async function enter(staff: StaffSession['staff']): Promise<void> {
  if (staff.role !== 'admin') return show('not-admin');
  try {
    await reload();
    show('staff-admin');
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return show('not-admin');
    show('sign-in');
    showErrorSummary(refusalText(error, 'Could not load the practice’s staff'));
  }
}

wireSignIn(client.signInFlow, (session) => void enter(session.staff));
void client.renew().then((renewed) => (renewed && client.staff ? enter(client.staff) : show('sign-in')));
