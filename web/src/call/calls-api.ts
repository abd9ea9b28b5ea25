import type { Static } from '@sinclair/typebox';
import type { CreateCallBody, CreateCallResult, InviteGuestBody, InviteGuestResult } from '@gpc/contracts';
import { ApiClient, type ApiClientOptions } from '../shared/api';

/** Signalling's HTTP side, with a member of staff's token: start a call, invite a guest into it. No DOM. */
export class CallsApi {
  private readonly client: ApiClient;

  /** Signalling serves `/calls` at the origin's root, not under triage's `/api`. */
  constructor(options: Omit<ApiClientOptions, 'base'>) {
    this.client = new ApiClient({ ...options, base: '' });
  }

  /** A call for a request, and the patient's link into it. */
  create(body: Static<typeof CreateCallBody>): Promise<Static<typeof CreateCallResult>> {
    return this.client.send('POST', '/calls', body);
  }

  /** A link for an interpreter or carer to join the call. */
  inviteGuest(
    callId: string,
    body: Static<typeof InviteGuestBody>,
  ): Promise<Static<typeof InviteGuestResult>> {
    return this.client.send('POST', `/calls/${encodeURIComponent(callId)}/guests`, body);
  }
}
