import { AppError, type CloseRefusal, type ThreadMessage } from '@gpc/contracts';
import { lockConsultation } from './db/consultations';
import { unseenPatientMessages } from './db/messages';
import type { Queryable } from './db/queryable';

/**
 * Nothing is closed over a message the closer has not seen: a patient's reply that arrived after
 * the clinician last opened the request could change what should happen (a new symptom, "it's
 * worse"). Closing is refused, with the reply, until it has been shown to them.
 */
export class UnseenRepliesError extends AppError {
  override name = 'UnseenRepliesError';
  constructor(readonly messages: ThreadMessage[]) {
    super(
      'conflict',
      messages.length === 1
        ? 'The patient has replied since you opened this request. Read their reply before you close it.'
        : `The patient has sent ${messages.length} replies since you opened this request. Read them before you close it.`,
    );
  }

  /** The 409 body of `POST /consultations/:id/close`, with the messages. */
  get body(): CloseRefusal {
    return { code: this.code, message: this.message, unseenMessages: this.messages };
  }
}

/**
 * In the closing transaction, before anything else: locks the request (a reply being written holds
 * the same lock, so it has either committed and is counted here, or waits and then finds the request
 * closed) and refuses with `UnseenRepliesError` when `staffId` has not been shown every one of the
 * patient's messages. A request that is not open is left to the close itself to refuse.
 */
export async function checkRepliesSeen(
  client: Queryable,
  practiceId: string,
  consultationId: string,
  staffId: string,
): Promise<void> {
  const status = await lockConsultation(client, practiceId, consultationId);
  if (!status || status === 'closed') return;
  const unseen = await unseenPatientMessages(client, consultationId, staffId);
  if (unseen.length > 0) throw new UnseenRepliesError(unseen);
}
