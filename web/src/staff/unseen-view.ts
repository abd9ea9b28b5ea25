import type { ThreadMessage } from '@gpc/contracts';
import { byId, messageItem } from '../shared/nhsuk';
import { when } from './words';

/**
 * Closing refused because the patient wrote since this member of staff opened the request: their
 * new message(s), by the close button, until the request is closed or another is opened.
 */
export function showUnseenReplies(messages: ThreadMessage[]): void {
  byId('unseen-reply-list').replaceChildren(
    ...messages.map((message) => messageItem(`Patient, ${when(message.at)}: `, message.body)),
  );
  const callout = byId('unseen-replies');
  callout.hidden = false;
  // where the eye and a screen reader are, not the top of the page
  callout.focus();
}

export function hideUnseenReplies(): void {
  byId('unseen-replies').hidden = true;
  byId('unseen-reply-list').replaceChildren();
}
