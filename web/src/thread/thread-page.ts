import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import type {
  PatientReplyBody,
  PatientReplySent,
  ThreadMessage,
  ThreadUnlockBody,
  ThreadUnlocked,
  UploadGrant,
  UploadRequest,
} from '@gpc/contracts';
// Through its own subpath, like every value the pages take from contracts: the index would bring TypeBox.
import { replyUrgentAdvice, replyUrgentHint, replyUrgentQuestion } from '@gpc/contracts/forms/reply-urgency';
import { ApiClient, errorText } from '../shared/api';
import { byId, element, messageItem, radios, showErrorSummary as showError } from '../shared/nhsuk';
import { uploadFiles } from '../shared/upload';

/** The patient's message thread: opened by a link, unlocked with the date of birth, then read and reply. */

const linkToken = new URLSearchParams(location.hash.slice(1)).get('t') ?? '';
history.replaceState(null, '', location.pathname);
let sessionToken = '';
let uploads: string[] = [];
const api = new ApiClient({
  token: () => sessionToken,
  unexplained: () => 'Something went wrong. Please try again.',
});

async function loadMessages(): Promise<void> {
  const messages = await api.get<ThreadMessage[]>('/threads/messages');
  byId('messages').replaceChildren(
    ...messages.map((message) => {
      const when = new Date(message.at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
      return messageItem(
        `${message.author === 'staff' ? 'Your GP surgery' : 'You'}, ${when}: `,
        message.body,
      );
    }),
  );
}

byId('unlock-form').addEventListener('submit', (event) => {
  event.preventDefault();
  showError();
  const birthDate = byId<HTMLInputElement>('birth-date').value;
  if (!birthDate) return showError('Enter the date of birth');
  api
    .send<ThreadUnlockBody, ThreadUnlocked>('POST', '/threads/unlock', { token: linkToken, birthDate })
    .then(async ({ sessionToken: token, reference }) => {
      sessionToken = token;
      byId('thread-title').textContent = `Messages about your request ${reference}`;
      await loadMessages();
      byId('unlock').hidden = true;
      byId('thread').hidden = false;
      byId('thread-title').focus();
    })
    .catch((error: unknown) => showError(errorText(error, 'Could not open your messages')));
});

/** "Is this urgent?", asked before every reply as the form asks its urgent questions. */
function urgentQuestion(): void {
  const fieldset = radios(
    'urgent',
    [
      { value: 'yes', label: 'Yes, I need help now' },
      { value: 'no', label: 'No' },
    ],
    replyUrgentQuestion,
  );
  const hint = element('div', { class: 'nhsuk-hint', id: 'urgent-hint' }, replyUrgentHint);
  fieldset.setAttribute('aria-describedby', 'urgent-hint');
  fieldset.querySelector('legend')?.after(hint);
  byId('urgent-group').replaceChildren(fieldset);
}

/** Yes: the 999 / NHS 111 advice instead of the thread, and nothing is sent. */
function urgentStop(): void {
  const card = element('div', { class: 'nhsuk-card nhsuk-card--care nhsuk-card--care--emergency' });
  const heading = element('div', { class: 'nhsuk-card--care__heading-container' });
  heading.append(element('h2', { class: 'nhsuk-card--care__heading' }, 'Get help now'));
  const content = element('div', { class: 'nhsuk-card__content' });
  const call999 = element('a', { href: 'tel:999', class: 'nhsuk-button nhsuk-button--warning' }, 'Call 999');
  const call111 = element(
    'a',
    // on the emergency card's dark background, the design system's reverse button (the secondary one fails contrast)
    { href: 'https://111.nhs.uk', class: 'nhsuk-button nhsuk-button--reverse' },
    'Go to 111.nhs.uk',
  );
  content.append(element('p', {}, replyUrgentAdvice), call999, element('span', {}, ' '), call111);
  card.append(heading, content);
  byId('urgent-stop-card').replaceChildren(card);
  showError();
  byId('thread').hidden = true;
  byId('urgent-stop').hidden = false;
  byId('urgent-stop').querySelector('h1')?.focus();
}

/** When the practice is closed, when it will read the reply; nothing while it is open. */
function showReplyNotice(sent: PatientReplySent): void {
  byId('reply-notice').hidden = !sent.practiceClosed;
  byId('reply-notice-text').textContent = sent.practiceClosed?.message ?? '';
}

byId('reply-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const reply = byId<HTMLTextAreaElement>('reply');
  const body = reply.value.trim();
  if (!body) return showError('Write your reply');
  const urgent = byId('urgent-group').querySelector<HTMLInputElement>('input[name="urgent"]:checked')?.value;
  if (!urgent) return showError('Answer whether this is urgent');
  if (urgent === 'yes') return urgentStop();
  const attachments = uploads.map((key) => ({ key }));
  api
    .send<PatientReplyBody, PatientReplySent>('POST', '/threads/messages', {
      body,
      urgent: false,
      ...(attachments.length ? { attachments } : {}),
    })
    .then(async (sent) => {
      reply.value = '';
      uploads = [];
      byId('uploaded').replaceChildren();
      urgentQuestion();
      showError();
      showReplyNotice(sent);
      await loadMessages();
    })
    .catch((error: unknown) => showError(errorText(error, 'Your reply was not sent: try again')));
});

byId<HTMLInputElement>('photos').addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  uploadFiles(
    [...(input.files ?? [])].slice(0, 5 - uploads.length),
    byId('uploaded'),
    (request) => api.send<UploadRequest, UploadGrant>('POST', '/threads/uploads', request),
    (key) => uploads.push(key),
  );
});

urgentQuestion();
if (!linkToken) showError('This link is not complete. Open it again from the message you were sent.');
