import type { Cis2Failure, Cis2Offer, Cis2ReturnPage, StaffSession } from '@gpc/contracts';
import { ApiClient, errorText } from './api';
import { byId, showErrorSummary } from './nhsuk';

/**
 * "Sign in with NHS Care Identity" (NHS CIS2) on the staff pages (the CIS2 block of
 * web/partials/sign-in.html): the button shows once the practice code typed (or remembered) is one
 * whose staff may sign in with CIS2, and sends the browser to triage's `/auth/cis2/start`, which
 * sends it on to CIS2. CIS2 comes back through triage to this page with a one-time code in the URL
 * fragment (`#cis2=…`, or `#cis2-error=…`): the fragment is removed from the address bar at once,
 * and the code exchanged for a session, which the tab keeps as a password sign-in's.
 */

/** What the page's session keeper offers: the exchange of a CIS2 code, and renewal. */
export interface Cis2SessionFlow {
  signInWithCis2(code: string): Promise<StaffSession>;
  renew(): Promise<boolean>;
  readonly staff: StaffSession['staff'] | undefined;
}

const failureWords: Record<Cis2Failure, string> = {
  cancelled: 'You did not finish signing in with NHS Care Identity.',
  expired: 'Your NHS Care Identity sign-in took too long or was already used. Try again.',
  failed: 'NHS Care Identity’s answer could not be checked, so you are not signed in. Try again.',
  assurance:
    'Your practice needs a stronger way of signing in (for example your smartcard). Sign in with NHS Care Identity again using it.',
  'no-role':
    'Your NHS Care Identity account has no role at this practice that lets you use this service. Ask your Registration Authority or practice manager.',
  stopped: 'Your access to this service has been stopped by your practice. Ask an admin at your practice.',
  unavailable:
    'NHS Care Identity is not answering at the moment. Try again in a few minutes, or sign in with your password.',
  'not-offered': 'This practice does not use NHS Care Identity to sign in to this service.',
};

/** A practice code worth asking about (what triage accepts). */
const practiceCode = (text: string) =>
  /^[A-Za-z0-9]{3,10}$/.test(text.trim()) ? text.trim().toUpperCase() : undefined;
const rememberedKey = 'gpc-practice';

/** Reads and removes the fragment CIS2's sign-in came back with, if any. */
function takeLanding(): { code?: string; error?: string } {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get('cis2') ?? undefined;
  const error = fragment.get('cis2-error') ?? undefined;
  if (code || error) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return { ...(code ? { code } : {}), ...(error ? { error } : {}) };
}

/** Shows the button while the practice code is one that offers CIS2; the button starts the sign-in. */
function wireOffer(page: Cis2ReturnPage): void {
  const api = new ApiClient();
  const block = byId('cis2-sign-in');
  const input = byId<HTMLInputElement>('ods');
  const fromUrl = practiceCode(new URLSearchParams(location.search).get('practice') ?? '');
  if (!input.value) input.value = fromUrl ?? localStorage.getItem(rememberedKey) ?? '';
  let asked = '';
  const check = () => {
    const ods = practiceCode(input.value);
    if (ods === asked) return;
    asked = ods ?? '';
    if (!ods) return void (block.hidden = true);
    api.get<Cis2Offer>(`/auth/cis2/offer?ods=${ods}`).then(
      (offer) => {
        if (asked === ods) block.hidden = !offer.offered;
      },
      () => {
        if (asked === ods) block.hidden = true;
      },
    );
  };
  input.addEventListener('input', check);
  check();
  byId('cis2-sign-in-button').addEventListener('click', (event) => {
    event.preventDefault();
    const ods = practiceCode(input.value);
    if (!ods) return showErrorSummary('Enter your practice code');
    localStorage.setItem(rememberedKey, ods);
    location.assign(`/api/auth/cis2/start?ods=${encodeURIComponent(ods)}&page=${page}`);
  });
}

/**
 * The page's start: a CIS2 sign-in coming back (its code exchanged for a session), or else this
 * tab's session renewed. Who is signed in, or undefined (the sign-in is shown, with why if CIS2 said).
 */
export async function resumeStaffSession(
  flow: Cis2SessionFlow,
  page: Cis2ReturnPage,
): Promise<StaffSession['staff'] | undefined> {
  wireOffer(page);
  const landing = takeLanding();
  if (landing.code) {
    try {
      return (await flow.signInWithCis2(landing.code)).staff;
    } catch (error) {
      showErrorSummary(errorText(error, 'Could not sign in with NHS Care Identity'));
      return undefined;
    }
  }
  if (await flow.renew()) return flow.staff;
  if (landing.error) showErrorSummary(failureWords[landing.error as Cis2Failure] ?? failureWords.failed);
  return undefined;
}
