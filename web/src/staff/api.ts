import { io, type Socket } from 'socket.io-client';
import { StaffLive, type StaffLiveServerToClientEvents } from '@gpc/contracts/staff-live';
import type {
  AttachmentView,
  CallDataView,
  CloseConsultationBody,
  CloseRefusal,
  ConsultationChange,
  ConsultationDetail,
  ConsultationStatus,
  IdentityView,
  NhsNumberBody,
  NhsNumberRecorded,
  OverdueCount,
  QueueItem,
  StaffMessageBody,
  StaffMessageSent,
  StaffSession,
  ThreadMessage,
  WriteBackListItem,
  WriteBackStatus,
  WriteBackView,
} from '@gpc/contracts';
import { CallsApi } from '../call/calls-api';
import { ApiError } from '../shared/api';
import type { SignInFlow } from '../shared/sign-in';
import { StaffSessionKeeper } from '../shared/staff-session';

/** The statuses the queue's "Open requests" choice shows together. */
export const openStatuses: ConsultationStatus[] = ['new', 'in_progress', 'awaiting_patient'];

export interface StaffClientHandlers {
  /** The session could not be renewed: staff must sign in again. */
  signedOut: () => void;
  /** Something in the practice's queue changed (the live feed says which, the views fetch again). */
  queueChanged: () => void;
  /** The session began or was renewed, with this access token (e.g. for a call page this tab opened). */
  renewed?: (accessToken: string) => void;
}

/**
 * Staff's side of triage, like `CallClient` for a call: the session (shared/staff-session.ts), each
 * REST call typed by the contracts, and the live queue feed. No DOM.
 */
export class StaffClient {
  private live: Socket<StaffLiveServerToClientEvents> | undefined;
  /** The next feed replaces one triage closed: it loads the views again once connected. */
  private liveReplaced = false;
  private readonly session = new StaffSessionKeeper({
    signedOut: () => this.handlers.signedOut(),
    started: (session) => {
      this.connectLive(session);
      this.handlers.renewed?.(session.accessToken);
    },
  });
  private readonly api = this.session.api;
  /** Video calls, made by triage with the same token (the call node only takes the tokens triage signs). */
  private readonly calls = new CallsApi({
    token: () => this.session.accessToken,
    unexplained: () => 'Could not start a call',
  });

  constructor(private readonly handlers: StaffClientHandlers) {}

  /** Who is signed in, if anyone. */
  get staff(): StaffSession['staff'] | undefined {
    return this.session.staff;
  }

  get accessToken(): string | undefined {
    return this.session.accessToken;
  }

  /** Signing in, step by step (web/src/shared/sign-in.ts). */
  get signInFlow(): SignInFlow {
    return this.session;
  }

  /** Renews the session with this tab's refresh token; false when there is none or triage refuses it. */
  renew(): Promise<boolean> {
    return this.session.renew();
  }

  /** A finished NHS CIS2 sign-in's one-time code, for a session. */
  signInWithCis2(code: string): Promise<StaffSession> {
    return this.session.signInWithCis2(code);
  }

  /** The live queue feed, with each new access token. */
  private connectLive(session: StaffSession): void {
    this.live?.disconnect();
    const live = io(StaffLive.namespace, { path: StaffLive.path, auth: { token: session.accessToken } });
    this.live = live;
    live.on('queue:changed', () => this.handlers.queueChanged());
    // changes made while the feed was away (a dropped connection, or triage's Redis down) were
    // never heard: on each reconnection the views load again
    let connectedBefore = this.liveReplaced;
    this.liveReplaced = false;
    live.on('connect', () => {
      if (connectedBefore) this.handlers.queueChanged();
      connectedBefore = true;
    });
    // triage closes the feed when its token expires, when this member's access changed (stopped,
    // demoted, reset) and when its Redis is back: it reconnects with a fresh token, or signs out
    live.on('disconnect', (reason) => {
      if (reason === 'io server disconnect' && this.live === live) this.renewLive(live);
    });
    live.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (error.data?.code === 'unauthorized' && this.live === live) this.renewLive(live);
    });
  }

  /**
   * A new access token, then the feed again with it (`started` reconnects it); signed out when the
   * session cannot be renewed. After a second's wait, so the renewal does not race the revocation
   * still reaching the other nodes.
   */
  private renewLive(live: Socket): void {
    live.disconnect();
    setTimeout(() => {
      if (this.live !== live) return;
      this.liveReplaced = true;
      void this.session.renew().then((renewed) => {
        if (renewed) return;
        this.live = undefined;
        this.handlers.signedOut();
      });
    }, 1000);
  }

  queue(status: ConsultationStatus): Promise<QueueItem[]> {
    return this.api.get(`/consultations?status=${status}`);
  }

  /** Closed requests whose summary is in this state on its way into the GP record. */
  writeBacks(status: WriteBackStatus): Promise<WriteBackListItem[]> {
    return this.api.get(`/write-backs?status=${status}`);
  }

  consultation(id: string): Promise<ConsultationDetail> {
    return this.api.get(`/consultations/${id}`);
  }

  /** The request's video calls: who joined and left when, media paths, quality. */
  callData(id: string): Promise<CallDataView[]> {
    return this.api.get(`/consultations/${id}/calls`);
  }

  attachments(id: string): Promise<AttachmentView[]> {
    return this.api.get(`/consultations/${id}/attachments`);
  }

  /**
   * The request's messages. `shown`: they are being put in front of the member of staff as they open
   * the request, so triage records the patient's as seen by them; a background reload leaves it out.
   */
  messages(id: string, shown = false): Promise<ThreadMessage[]> {
    return this.api.get(`/consultations/${id}/messages${shown ? '?markSeen=true' : ''}`);
  }

  /** How many open requests are past the practice's response target. */
  overdueCount(): Promise<OverdueCount> {
    return this.api.get('/consultations/overdue');
  }

  /** Assigns, prioritises or moves an open request along. */
  change(id: string, change: ConsultationChange): Promise<QueueItem> {
    return this.api.send('PATCH', `/consultations/${id}`, change);
  }

  sendMessage(id: string, message: StaffMessageBody): Promise<StaffMessageSent> {
    return this.api.send('POST', `/consultations/${id}/messages`, message);
  }

  recordNhsNumber(id: string, body: NhsNumberBody): Promise<NhsNumberRecorded> {
    return this.api.send('PUT', `/consultations/${id}/nhs-number`, body);
  }

  /** Confirms the patient PDS verified (clinicians and admins): the summary may then be filed. */
  confirmPatient(id: string): Promise<IdentityView> {
    return this.api.send('POST', `/consultations/${id}/confirm-patient`, {});
  }

  /** Sends a refused summary to the GP record again (practice admins only). */
  replayWriteBack(id: string): Promise<WriteBackView> {
    return this.api.send('POST', `/consultations/${id}/write-back/replay`, {});
  }

  /** Closes the request; refused with `UnseenRepliesError` when the patient wrote since it was opened. */
  async close(id: string, body: CloseConsultationBody): Promise<QueueItem> {
    try {
      return await this.api.send('POST', `/consultations/${id}/close`, body);
    } catch (error) {
      const refusal =
        error instanceof ApiError && error.status === 409 ? (error.body as CloseRefusal) : undefined;
      if (refusal?.unseenMessages?.length)
        throw new UnseenRepliesError(refusal.message, refusal.unseenMessages);
      throw error;
    }
  }

  startCall(body: Parameters<CallsApi['create']>[0]): ReturnType<CallsApi['create']> {
    return this.calls.create(body);
  }
}

/** Closing refused: the patient wrote after this member of staff last opened the request. */
export class UnseenRepliesError extends Error {
  override name = 'UnseenRepliesError';
  constructor(
    message: string,
    readonly messages: ThreadMessage[],
  ) {
    super(message);
  }
}
