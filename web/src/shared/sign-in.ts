import './mfa.css';
import type {
  EnrolledSession,
  MfaEnrolment,
  SignInBody,
  SignInResult,
  SignInStep,
  StaffSession,
} from '@gpc/contracts';
import { ApiError, errorText } from './api';
import { showEnrolment, showRecoveryCodes } from './mfa-view';
import { byId, showErrorSummary } from './nhsuk';

/**
 * The staff pages' sign-in (web/partials/sign-in.html): the practice code, email and password, then
 * whatever steps the account needs, one at a time: a code from the authenticator app (or a recovery
 * code), a new password after an admin's reset, setting up MFA when the practice requires it (QR
 * code, first code, then the recovery codes, shown once). The session goes to `signedIn`; a refusal
 * goes to the error summary.
 */

/** The staff session's side of signing in (StaffSessionKeeper). */
export interface SignInFlow {
  signIn(credentials: SignInBody): Promise<SignInResult>;
  signInStep(
    path: '/auth/mfa' | '/auth/password' | '/auth/mfa/enrolment/confirm',
    body: { pendingToken: string; code?: string; newPassword?: string },
  ): Promise<SignInResult | EnrolledSession>;
  enrolmentForSignIn(pendingToken: string): Promise<MfaEnrolment>;
}

const parts = [
  'sign-in-form',
  'sign-in-code-form',
  'sign-in-new-password-form',
  'sign-in-enrol',
  'sign-in-recovery',
] as const;
type Part = (typeof parts)[number];

function showPart(part: Part, focusId?: string): void {
  for (const id of parts) {
    const shown = document.getElementById(id);
    if (shown) shown.hidden = id !== part;
  }
  // NHS Care Identity is another way in from the first step, not an aside to a code or enrolment
  document.getElementById('cis2-sign-in')?.classList.toggle('gpc-past-first-step', part !== 'sign-in-form');
  if (focusId) byId(focusId).focus();
}

/** The new-password form, put in the page from its template the first time it is needed. */
function newPasswordForm(onSubmitted: () => unknown): void {
  if (document.getElementById('sign-in-new-password-form')) return;
  const template = byId<HTMLTemplateElement>('sign-in-new-password-template');
  template.after(template.content.cloneNode(true));
  onSubmit('sign-in-new-password-form', onSubmitted);
}

const value = (id: string) => byId<HTMLInputElement>(id).value;

/**
 * Shows the sign-in again when a session ends under the member of staff (it could not be renewed:
 * it expired, or an admin stopped, demoted or reset them), saying so rather than leaving them to guess.
 */
export function showSignedOut(): void {
  byId('signed-out-notice').hidden = false;
}

export function wireSignIn(flow: SignInFlow, signedIn: (session: StaffSession) => void): void {
  let pendingToken = '';
  let usingRecoveryCode = false;
  let enrolled: StaffSession | undefined;

  const finish = (session: StaffSession) => {
    byId('signed-out-notice').hidden = true;
    showPart('sign-in-form');
    document.getElementById('sign-in-new-password-form')?.remove();
    byId<HTMLInputElement>('password').value = '';
    signedIn(session);
  };

  const refused = (fallback: string) => (error: unknown) => {
    // a proof that has expired, or was used up by wrong codes: start again from the password
    if (error instanceof ApiError && error.status === 401 && pendingToken) {
      pendingToken = '';
      showPart('sign-in-form');
    }
    showErrorSummary(errorText(error, fallback));
  };

  async function next(result: SignInResult | EnrolledSession): Promise<void> {
    if ('session' in result) {
      enrolled = result.session;
      showRecoveryCodes('sign-in-recovery', result.recoveryCodes);
      return showPart('sign-in-recovery', 'sign-in-recovery-title');
    }
    if ('accessToken' in result) return finish(result);
    await step(result);
  }

  async function step(result: SignInStep): Promise<void> {
    pendingToken = result.pendingToken;
    if (result.step === 'totp') {
      useRecoveryCode(false);
      byId<HTMLInputElement>('sign-in-code').value = '';
      return showPart('sign-in-code-form', 'sign-in-code');
    }
    if (result.step === 'change-password') {
      newPasswordForm(chooseNewPassword);
      return showPart('sign-in-new-password-form', 'sign-in-new-password');
    }
    showEnrolment('sign-in-enrol', await flow.enrolmentForSignIn(pendingToken));
    showPart('sign-in-enrol', 'sign-in-enrol-title');
  }

  function useRecoveryCode(on: boolean): void {
    usingRecoveryCode = on;
    byId('sign-in-code-title').textContent = on
      ? 'Enter one of your recovery codes'
      : 'Enter the code from your authenticator app';
    byId('sign-in-code-label').textContent = on ? 'Recovery code' : 'Code from your authenticator app';
    byId('sign-in-code-hint').textContent = on
      ? 'One of the 10 codes you saved when you set up two-factor authentication, like 7K2QD-M9XPA. Each works once.'
      : 'The 6-digit code the app shows for GP Consult.';
    byId<HTMLInputElement>('sign-in-code').inputMode = on ? 'text' : 'numeric';
    byId('sign-in-use-recovery').textContent = on
      ? 'Use a code from your authenticator app instead'
      : 'Use a recovery code instead';
  }

  onSubmit('sign-in-form', () =>
    flow
      .signIn({
        odsCode: value('ods').trim(),
        email: value('email').trim(),
        password: value('password'),
      })
      .then(next)
      .catch(refused('Could not sign in')),
  );

  onSubmit('sign-in-code-form', () => {
    const code = value('sign-in-code').trim();
    if (!usingRecoveryCode && !/^[0-9]{6}$/.test(code.replace(/\s/g, '')))
      return showErrorSummary('Enter the 6-digit code from your authenticator app');
    if (usingRecoveryCode && code.length < 10)
      return showErrorSummary('Enter a recovery code, like 7K2QD-M9XPA');
    return flow
      .signInStep('/auth/mfa', { pendingToken, code: code.replace(/\s/g, '') })
      .then(next)
      .catch(refused('Could not check the code'));
  });

  byId('sign-in-use-recovery').addEventListener('click', (event) => {
    event.preventDefault();
    useRecoveryCode(!usingRecoveryCode);
    byId('sign-in-code').focus();
  });

  function chooseNewPassword(): unknown {
    const newPassword = value('sign-in-new-password');
    if (newPassword.length < 12) return showErrorSummary('Enter a new password of at least 12 characters');
    if (newPassword !== value('sign-in-new-password-again'))
      return showErrorSummary('The two new passwords are not the same');
    return flow
      .signInStep('/auth/password', { pendingToken, newPassword })
      .then(next)
      .catch(refused('Could not save the new password'));
  }

  onSubmit('sign-in-enrol-form', () => {
    const code = value('sign-in-enrol-code').replace(/\s/g, '');
    if (!/^[0-9]{6}$/.test(code))
      return showErrorSummary('Enter the 6-digit code from your authenticator app');
    return flow
      .signInStep('/auth/mfa/enrolment/confirm', { pendingToken, code })
      .then(next)
      .catch(refused('Could not turn on two-factor authentication'));
  });

  byId('sign-in-recovery-saved').addEventListener('click', () => {
    if (enrolled) finish(enrolled);
    enrolled = undefined;
  });
}

/** Wires a form's submit to `handler`, without the browser's own submission; the error summary cleared first. */
function onSubmit(formId: string, handler: () => unknown): void {
  byId(formId).addEventListener('submit', (event) => {
    event.preventDefault();
    showErrorSummary();
    void handler();
  });
}
