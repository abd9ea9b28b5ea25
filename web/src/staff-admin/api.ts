import type {
  NewStaffMember,
  StaffMemberChange,
  StaffMemberView,
  StaffSession,
  TemporaryPassword,
} from '@gpc/contracts';
import type { SignInFlow } from '../shared/sign-in';
import { StaffSessionKeeper } from '../shared/staff-session';

/**
 * The staff admin page's side of triage: the staff session (shared with the dashboard) and the
 * admins' staff calls, typed by the contracts. No DOM.
 */
export class StaffAdminClient {
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

  members(): Promise<StaffMemberView[]> {
    return this.api.get('/staff');
  }

  add(member: NewStaffMember): Promise<StaffMemberView> {
    return this.api.send('POST', '/staff', member);
  }

  /** A new role, or access stopped (`active: false`) or given back; their live sessions close at once. */
  change(staffId: string, change: StaffMemberChange): Promise<StaffMemberView> {
    return this.api.send('PATCH', `/staff/${encodeURIComponent(staffId)}`, change);
  }

  /** A temporary password for them, shown once; they choose their own when they next sign in. */
  resetPassword(staffId: string): Promise<TemporaryPassword> {
    return this.api.send('POST', `/staff/${encodeURIComponent(staffId)}/password/reset`, {});
  }

  /** Their authenticator app and recovery codes are removed: they set MFA up again at their next sign-in. */
  async resetMfa(staffId: string): Promise<void> {
    await this.api.send('POST', `/staff/${encodeURIComponent(staffId)}/mfa/reset`, {});
  }
}
