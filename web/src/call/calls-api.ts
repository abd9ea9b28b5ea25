import type {
  CreateCallBody,
  CreateCallResult,
  HostTokenResult,
  InviteGuestBody,
  InviteGuestResult,
} from '@gpc/contracts';
import { ApiClient, type ApiClientOptions } from '../shared/api';

/**
 * Video calls, made by triage (`/api/calls`) with a clinician's or admin's access token: start a
 * call for a request, invite a guest into it, and get the short host token the call node lets the
 * member of staff in with. No DOM.
 */
export class CallsApi {
  private readonly client: ApiClient;

  constructor(options: Omit<ApiClientOptions, 'base'>) {
    this.client = new ApiClient(options);
  }

  /** A call for a request: the patient's link (the patient's name is the request's own) and a host token. */
  create(body: CreateCallBody): Promise<CreateCallResult> {
    return this.client.send('POST', '/calls', body);
  }

  /** A link for an interpreter or carer to join the call. */
  inviteGuest(callId: string, body: InviteGuestBody): Promise<InviteGuestResult> {
    return this.client.send('POST', `/calls/${encodeURIComponent(callId)}/guests`, body);
  }

  /** A fresh host token for the call, to join it or rejoin after a reconnect. */
  hostToken(callId: string): Promise<HostTokenResult> {
    return this.client.send('POST', `/calls/${encodeURIComponent(callId)}/host-token`, {});
  }
}
