import type { NhsLoginFailure, NhsLoginIdentityView, NhsLoginOffer } from '@gpc/contracts';
import { ApiClient, ApiError } from '../shared/api';
import { addSummaryRow, button, element, showErrorSummary } from '../shared/nhsuk';
import type { FormState } from './state';

/**
 * Sign in with NHS login on the form, when the practice offers it. The first page offers "Continue
 * with NHS login" or "Continue without"; NHS login sends the browser back here with a session token
 * in the URL fragment (never the query), which is read and removed at once. The patient's name and
 * date of birth then show as text from NHS login, not inputs, and the token goes with the request.
 * The NHS number is never shown (NHS login's terms), and the request is for the patient themself.
 */

/** The session token, once NHS login sent one: it is the bearer of the identity read. */
let sessionToken: string | undefined;
const client = new ApiClient({
  token: () => sessionToken,
  unexplained: () => 'Something went wrong. Please try again.',
});

/** What the sign-in left in the fragment, which is removed from the address bar and history now. */
function takeReturn(): { token: string | undefined; failure: string | undefined } {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('nhs-login') ?? undefined;
  const failure = fragment.get('nhs-login-error') ?? undefined;
  if (token || failure) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return { token, failure };
}

const failureWords: Record<NhsLoginFailure, string> = {
  cancelled: 'You did not finish signing in with NHS login.',
  expired: 'Your sign-in took too long, or was already used. Try again.',
  failed: 'We could not use your NHS login sign-in. Try again, or continue without NHS login.',
  'not-verified':
    'Your NHS login does not yet confirm who you are (your identity is not verified). Continue without NHS login.',
  unavailable: 'NHS login is not available at the moment. Try again later, or continue without NHS login.',
  'not-offered': 'Your GP surgery does not offer NHS login on this form.',
};

/** A date as the patient reads it: 14 July 1985. */
const readableDate = (iso: string): string =>
  new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });

/**
 * Before the form: back from NHS login (signed in, or told why not), or the offer of it when the
 * practice makes it; otherwise straight on with `next`.
 */
export async function startWithNhsLogin(
  ods: string,
  state: FormState,
  show: (title: string, ...content: Node[]) => void,
  next: () => void,
): Promise<void> {
  const { token, failure } = takeReturn();
  if (token) {
    try {
      sessionToken = token;
      const identity = await client.get<NhsLoginIdentityView>('/nhs-login/session');
      signIn(state, token, identity);
      return next();
    } catch (error) {
      return offerPage(ods, show, next, error instanceof ApiError ? error.message : failureWords.failed);
    }
  }
  let offer: NhsLoginOffer = { offered: false };
  try {
    offer = await client.get<NhsLoginOffer>(`/practices/${encodeURIComponent(ods)}/nhs-login/offer`);
  } catch {
    // the form works without NHS login
  }
  if (!offer.offered && !failure) return next();
  offerPage(
    ods,
    show,
    next,
    failure ? (failureWords[failure as NhsLoginFailure] ?? failureWords.failed) : undefined,
  );
}

/** The identity the form now shows and sends: typed in nowhere, for the patient themself. */
function signIn(state: FormState, token: string, identity: NhsLoginIdentityView): void {
  state.nhsLogin = { token, identity };
  state.proxy = undefined;
  state.about['given-name'] = identity.givenName;
  state.about['family-name'] = identity.familyName;
  state.about['birth-date'] = identity.birthDate;
  delete state.about['nhs-number'];
}

/** "Continue with NHS login" (NHS login's button, in NHS.UK styles) or "Continue without". */
function offerPage(
  ods: string,
  show: (title: string, ...content: Node[]) => void,
  next: () => void,
  problem: string | undefined,
): void {
  const signInLink = element(
    'a',
    {
      class: 'nhsuk-button',
      href: `/api/practices/${encodeURIComponent(ods)}/nhs-login`,
      role: 'button',
      draggable: 'false',
      // from the widget's frame, NHS login opens in the whole window (it may not be framed)
      target: '_top',
    },
    'Continue with NHS login',
  );
  const without = button('Continue without NHS login', { variant: 'secondary' });
  without.addEventListener('click', next);
  show(
    'How do you want to continue?',
    element(
      'p',
      {},
      'If you continue with NHS login, your GP surgery gets your name, date of birth and NHS number from it, so you do not need to type them.',
    ),
    element('p', {}, 'Only use NHS login if the request is for you.'),
    signInLink,
    element('p', {}, 'Or you can fill in your details yourself.'),
    without,
  );
  if (problem) showErrorSummary(problem);
}

/** In place of the name and date of birth inputs: what NHS login says, as text. */
export function nhsLoginDetails(identity: NhsLoginIdentityView): HTMLElement {
  const section = element('div', { class: 'nhsuk-form-group' });
  section.append(element('h2', { class: 'nhsuk-heading-s' }, 'From your NHS login'));
  const list = element('dl', { class: 'nhsuk-summary-list' });
  addSummaryRow(list, 'Name', `${identity.givenName} ${identity.familyName}`);
  addSummaryRow(list, 'Date of birth', readableDate(identity.birthDate));
  section.append(
    list,
    element(
      'p',
      { class: 'nhsuk-body-s' },
      'These details come from NHS login and cannot be changed here. If they are wrong, contact NHS login or your GP surgery.',
    ),
  );
  return section;
}
