import type {
  MfaPolicy,
  NavigationRules,
  NewPause,
  PauseList,
  PauseView,
  PracticeForm,
  PracticeInfo,
  PracticeSettingsChange,
  PracticeSettingsView,
  StaffMemberView,
  StaffSession,
} from '@gpc/contracts';
import type { SignInFlow } from '../shared/sign-in';
import { StaffSessionKeeper } from '../shared/staff-session';

/**
 * The practice settings page's side of triage: the staff session (shared with the dashboard) and
 * each admin call, typed by the contracts. No DOM.
 */
export class SettingsClient {
  private readonly session: StaffSessionKeeper;

  constructor(handlers: { signedOut: () => void }) {
    this.session = new StaffSessionKeeper(handlers);
  }

  private get api() {
    return this.session.api;
  }

  /** Who is signed in, if anyone. */
  get staff(): StaffSession['staff'] | undefined {
    return this.session.staff;
  }

  /** Signing in, step by step (web/src/shared/sign-in.ts). */
  get signInFlow(): SignInFlow {
    return this.session;
  }

  renew(): Promise<boolean> {
    return this.session.renew();
  }

  /** A finished NHS CIS2 sign-in's one-time code, for a session. */
  signInWithCis2(code: string): Promise<StaffSession> {
    return this.session.signInWithCis2(code);
  }

  settings(): Promise<PracticeSettingsView> {
    return this.api.get('/practice');
  }

  change(change: PracticeSettingsChange): Promise<PracticeSettingsView> {
    return this.api.send('PATCH', '/practice', change);
  }

  navigationRules(): Promise<NavigationRules> {
    return this.api.get('/navigation-rules');
  }

  /** Replaces the rules whole, in the order given. */
  setNavigationRules(rules: NavigationRules): Promise<NavigationRules> {
    return this.api.send('PUT', '/navigation-rules', rules);
  }

  staffMembers(): Promise<StaffMemberView[]> {
    return this.api.get('/staff');
  }

  /** The practice's active forms, as patients see them (for rules that match one form). */
  async forms(odsCode: string): Promise<PracticeForm[]> {
    return (await this.api.get<PracticeInfo>(`/practices/${encodeURIComponent(odsCode)}`)).forms;
  }

  /** The practice's exceptional pauses, newest first. */
  pauses(): Promise<PauseList> {
    return this.api.get('/practice/pauses');
  }

  /** The roles that must sign in with two-factor authentication. */
  mfaPolicy(): Promise<MfaPolicy> {
    return this.api.get('/practice/mfa-policy');
  }

  changeMfaPolicy(policy: MfaPolicy): Promise<MfaPolicy> {
    return this.api.send('PUT', '/practice/mfa-policy', policy);
  }

  pause(pause: NewPause): Promise<PauseView> {
    return this.api.send('POST', '/practice/pauses', pause);
  }

  endPause(id: string): Promise<PauseView> {
    return this.api.send('POST', `/practice/pauses/${id}/end`, {});
  }

  /** Every pause, as CSV for the ICB. */
  pauseReport(): Promise<Blob> {
    return this.api.file('/practice/pauses.csv');
  }
}
