import type { Availability } from '@gpc/contracts';
import { element } from '../shared/nhsuk';

/**
 * What the form shows of the practice's availability (`GET /practices/:ods`, worked out by triage's
 * hours/availability.ts): while it takes requests, when to expect a reply (an NHS.UK inset); while
 * paused or closed, 111 advice in a warning callout, and the form cannot be started. No state.
 */

/** Whether a patient may start the form. */
export const takesRequests = (availability: Availability): boolean =>
  availability.state === 'open' || availability.state === 'open-out-of-hours';

/** When to expect a reply, shown before the patient starts (open, in or out of hours). */
export function replyNotice(availability: Availability): HTMLElement {
  const inset = element('div', { class: 'nhsuk-inset-text', id: 'reply-time' });
  inset.append(element('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '));
  inset.append(element('p', {}, availability.message));
  return inset;
}

/** The page's heading and content while the practice takes no requests (paused or closed). */
export function unavailableContent(availability: Availability): { title: string; content: Node[] } {
  const callout = element('div', { class: 'nhsuk-warning-callout', id: 'not-taking-requests' });
  const heading = element('h2', { class: 'nhsuk-warning-callout__label' });
  const label = element('span', { role: 'text' });
  label.append(element('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), 'If you need help now');
  heading.append(label);
  // the message carries the 111 and 999 advice in words; the link takes the patient straight there
  const online = element('p');
  online.append(element('a', { href: 'https://111.nhs.uk' }, 'Get help from NHS 111 online'));
  callout.append(heading, element('p', {}, availability.message), online);
  const title =
    availability.state === 'paused'
      ? 'Your GP surgery has paused online requests'
      : 'Your GP surgery is not taking online requests at the moment';
  return { title, content: [callout] };
}
