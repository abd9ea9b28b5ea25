import type { SignInBody, StaffSession } from '@gpc/contracts';
import { errorText } from './api';
import { byId, showErrorSummary } from './nhsuk';

/**
 * The staff pages' sign-in form (web/partials/sign-in.html): sends the practice code, email and
 * password to `signIn`, then hands the session to `signedIn`; a refusal goes to the error summary.
 */
export function wireSignIn(
  signIn: (credentials: SignInBody) => Promise<StaffSession>,
  signedIn: (session: StaffSession) => void,
): void {
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    showErrorSummary();
    const credentials = {
      odsCode: byId<HTMLInputElement>('ods').value.trim(),
      email: byId<HTMLInputElement>('email').value.trim(),
      password: byId<HTMLInputElement>('password').value,
    };
    signIn(credentials).then(signedIn, (error: unknown) =>
      showErrorSummary(errorText(error, 'Could not sign in')),
    );
  });
}
