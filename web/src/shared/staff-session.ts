import type {
  EnrolledSession,
  MfaEnrolment,
  RefreshTokenBody,
  SignInBody,
  SignInResult,
  StaffSession,
} from '@gpc/contracts';
import { ApiClient } from './api';

/**
 * A member of staff's session in this tab, for every staff page (the dashboard, practice settings):
 * signing in, renewing a minute before the access token runs out, and the REST client that carries
 * the token. The refresh token survives a reload and a move to another staff page in the same tab,
 * never the tab (sessionStorage, not localStorage). No DOM.
 */

const refreshTokenKey = 'gpc-refresh';

export interface StaffSessionHandlers {
  /** The session could not be renewed: staff must sign in again. */
  signedOut: () => void;
  /** A session began or was renewed, with its new access token (e.g. for a live connection). */
  started?: (session: StaffSession) => void;
}

export class StaffSessionKeeper {
  private session: StaffSession | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** The triage API, with this session's access token. */
  readonly api = new ApiClient({ token: () => this.session?.accessToken });

  constructor(private readonly handlers: StaffSessionHandlers) {}

  /** Who is signed in, if anyone. */
  get staff(): StaffSession['staff'] | undefined {
    return this.session?.staff;
  }

  get accessToken(): string | undefined {
    return this.session?.accessToken;
  }

  /** The password: the session, or the next step the account needs (a code, a new password, MFA set-up). */
  async signIn(credentials: SignInBody): Promise<SignInResult> {
    return this.began(await this.api.send<SignInBody, SignInResult>('POST', '/auth/login', credentials));
  }

  /** A further step of signing in, with its proof: the session (begun here), or the next step. */
  async signInStep(
    path: '/auth/mfa' | '/auth/password' | '/auth/mfa/enrolment/confirm',
    body: { pendingToken: string; code?: string; newPassword?: string },
  ): Promise<SignInResult | EnrolledSession> {
    const result = await this.api.send<typeof body, SignInResult | EnrolledSession>('POST', path, body);
    if ('session' in result) this.start(result.session);
    return 'session' in result ? result : this.began(result);
  }

  /** The secret to enrol, during a sign-in whose practice requires MFA (shown once). */
  enrolmentForSignIn(pendingToken: string): Promise<MfaEnrolment> {
    return this.api.send('POST', '/auth/mfa/enrolment', { pendingToken });
  }

  /** A finished NHS CIS2 sign-in: its one-time code (from the page's URL fragment) for a session. */
  async signInWithCis2(code: string): Promise<StaffSession> {
    const session = await this.api.send<{ code: string }, StaffSession>('POST', '/auth/cis2/session', {
      code,
    });
    this.start(session);
    return session;
  }

  /** A new session replacing this one (e.g. after changing the password, which ends every other). */
  replace(session: StaffSession): void {
    this.start(session);
  }

  private began(result: SignInResult): SignInResult {
    if ('accessToken' in result) this.start(result);
    return result;
  }

  /** Renews the session with this tab's refresh token; false when there is none or triage refuses it. */
  renew(): Promise<boolean> {
    // one renewal at a time: a refresh token works once, and a second use revokes the whole session
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private renewing: Promise<boolean> | undefined;

  private async renewOnce(): Promise<boolean> {
    const refreshToken = sessionStorage.getItem(refreshTokenKey);
    if (!refreshToken) return false;
    try {
      this.start(
        await this.api.send<RefreshTokenBody, StaffSession>('POST', '/auth/refresh', { refreshToken }),
      );
      return true;
    } catch {
      this.session = undefined;
      return false;
    }
  }

  private start(session: StaffSession): void {
    this.session = session;
    sessionStorage.setItem(refreshTokenKey, session.refreshToken);
    clearTimeout(this.refreshTimer);
    // renew a minute before the access token runs out
    this.refreshTimer = setTimeout(
      () => void this.renew().then((renewed) => renewed || this.handlers.signedOut()),
      Math.max(10, session.expiresIn - 60) * 1000,
    );
    this.handlers.started?.(session);
  }
}
