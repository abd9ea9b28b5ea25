import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import type {
  PatientReplyBody,
  ThreadMessage,
  ThreadUnlockBody,
  ThreadUnlocked,
  UploadGrant,
  UploadRequest,
} from '@gpc/contracts';
import { ApiClient, errorText } from '../shared/api';
import { byId, messageItem, showErrorSummary as showError } from '../shared/nhsuk';
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
      const when = new Date(message.at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
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

byId('reply-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const reply = byId<HTMLTextAreaElement>('reply');
  const body = reply.value.trim();
  if (!body) return showError('Write your reply');
  const attachments = uploads.map((key) => ({ key }));
  api
    .send<PatientReplyBody, ThreadMessage>('POST', '/threads/messages', {
      body,
      ...(attachments.length ? { attachments } : {}),
    })
    .then(async () => {
      reply.value = '';
      uploads = [];
      byId('uploaded').replaceChildren();
      showError();
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

if (!linkToken) showError('This link is not complete. Open it again from the message you were sent.');
