import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import type {
  AccountView,
  MfaEnrolment,
  PasswordChangeBody,
  RecoveryCodes,
  StaffSession,
} from '@gpc/contracts';
import { errorText } from '../shared/api';
import { showEnrolment, showRecoveryCodes } from '../shared/mfa-view';
import { byId, showErrorSummary } from '../shared/nhsuk';
import { showSignedOut, wireSignIn } from '../shared/sign-in';
import { StaffSessionKeeper } from '../shared/staff-session';

/**
 * A member of staff's own account (any role): two-factor authentication (set it up with a QR code
 * and a first code, then the recovery codes, shown once; new recovery codes) and their password
 * (the current one required; every other session ends, this one carries on).
 */

const session = new StaffSessionKeeper({
  signedOut: () => {
    show('sign-in');
    showSignedOut();
  },
});
const api = session.api;

function show(section: 'sign-in' | 'account'): void {
  for (const id of ['sign-in', 'account']) byId(id).hidden = id !== section;
  byId(section).querySelector('h1')?.focus();
}

function saved(message?: string): void {
  const banner = byId('success-banner');
  banner.hidden = !message;
  byId('success-text').textContent = message ?? '';
  if (message) banner.focus();
}

function renderAccount(account: AccountView, staff: StaffSession['staff']): void {
  byId('account-line').textContent = `${staff.name}${account.email ? `, ${account.email}` : ''}`;
  const left = account.recoveryCodesLeft;
  byId('mfa-status').textContent = account.mfaEnabled
    ? `Two-factor authentication is on. You have ${left} recovery ${left === 1 ? 'code' : 'codes'} left.`
    : `Two-factor authentication is off.${account.mfaRequired ? ' Your practice requires it for your role: set it up now, or you will be asked to the next time you sign in.' : ''}`;
  byId('mfa-start').hidden = account.mfaEnabled;
  byId('recovery-renew-form').hidden = !account.mfaEnabled;
  if (account.mfaEnabled) byId('account-enrol').hidden = true;
}

async function enter(): Promise<void> {
  const staff = session.staff;
  if (!staff) return show('sign-in');
  try {
    renderAccount(await api.get<AccountView>('/account'), staff);
    show('account');
  } catch (error) {
    show('sign-in');
    showErrorSummary(errorText(error, 'Could not load your account'));
  }
}

/** Runs an action from the page: the error summary cleared first, a refusal shown in it. */
function attempt(action: () => Promise<unknown>, fallback: string): void {
  showErrorSummary();
  saved();
  action().catch((error: unknown) => showErrorSummary(errorText(error, fallback)));
}

function onSubmit(formId: string, handler: () => void): void {
  byId(formId).addEventListener('submit', (event) => {
    event.preventDefault();
    handler();
  });
}

const value = (id: string) => byId<HTMLInputElement>(id).value;
const sixDigits = (id: string) => value(id).replace(/\s/g, '');

byId('mfa-start').addEventListener('click', () =>
  attempt(async () => {
    showEnrolment(
      'account-enrol',
      await api.send<object, MfaEnrolment>('POST', '/account/mfa/enrolment', {}),
    );
    byId('account-recovery').hidden = true;
    byId('account-enrol').hidden = false;
    byId('mfa-start').hidden = true;
    byId('account-enrol-code').focus();
  }, 'Could not start setting up two-factor authentication'),
);

function showNewCodes(codes: string[]): void {
  showRecoveryCodes('account-recovery', codes);
  byId('account-recovery').hidden = false;
}

onSubmit('account-enrol-form', () => {
  const code = sixDigits('account-enrol-code');
  if (!/^[0-9]{6}$/.test(code)) return showErrorSummary('Enter the 6-digit code from your authenticator app');
  attempt(async () => {
    const { recoveryCodes } = await api.send<object, RecoveryCodes>('POST', '/account/mfa/confirm', { code });
    await enter();
    showNewCodes(recoveryCodes);
    saved('Two-factor authentication is on. Save your recovery codes now: you will not see them again.');
  }, 'Could not turn on two-factor authentication');
});

onSubmit('recovery-renew-form', () => {
  const code = sixDigits('recovery-renew-code');
  if (!/^[0-9]{6}$/.test(code)) return showErrorSummary('Enter the 6-digit code from your authenticator app');
  attempt(async () => {
    const { recoveryCodes } = await api.send<object, RecoveryCodes>('POST', '/account/mfa/recovery-codes', {
      code,
    });
    byId<HTMLInputElement>('recovery-renew-code').value = '';
    await enter();
    showNewCodes(recoveryCodes);
    saved('You have new recovery codes. The old ones no longer work.');
  }, 'Could not make new recovery codes');
});

onSubmit('password-form', () => {
  const body: PasswordChangeBody = {
    currentPassword: value('current-password'),
    newPassword: value('new-password'),
  };
  if (!body.currentPassword) return showErrorSummary('Enter your current password');
  if (body.newPassword.length < 12) return showErrorSummary('Enter a new password of at least 12 characters');
  if (body.newPassword !== value('new-password-again'))
    return showErrorSummary('The two new passwords are not the same');
  attempt(async () => {
    session.replace(await api.send<PasswordChangeBody, StaffSession>('POST', '/account/password', body));
    for (const id of ['current-password', 'new-password', 'new-password-again'])
      byId<HTMLInputElement>(id).value = '';
    saved('Your password has been changed. You have been signed out everywhere else.');
  }, 'Could not change your password');
});

wireSignIn(session, () => void enter());

void session.renew().then((renewed) => (renewed ? enter() : show('sign-in')));
