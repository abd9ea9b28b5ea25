import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import { uploadFiles } from '../shared/upload';

/** The patient's message thread: opened by a link, unlocked with the date of birth, then read and reply. */

interface Message {
  id: string;
  author: string;
  body: string;
  at: string;
}

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const linkToken = new URLSearchParams(location.hash.slice(1)).get('t') ?? '';
history.replaceState(null, '', location.pathname);
let sessionToken = '';
let uploads: string[] = [];

function showError(message?: string): void {
  byId('error-summary').hidden = !message;
  byId('error-text').textContent = message ?? '';
  if (message) byId('error-summary').focus();
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`/api${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(sessionToken ? { authorization: `Bearer ${sessionToken}` } : {}),
    },
  });
  const body = (await response.json().catch(() => ({}))) as T & { message?: string };
  if (!response.ok) throw new Error(body.message ?? 'Something went wrong. Please try again.');
  return body;
}

async function loadMessages(): Promise<void> {
  const messages = await api<Message[]>('/threads/messages');
  byId('messages').replaceChildren(
    ...messages.map((message) => {
      const item = document.createElement('li');
      const who = document.createElement('strong');
      const when = new Date(message.at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
      who.textContent = `${message.author === 'staff' ? 'Your GP surgery' : 'You'}, ${when}: `;
      item.append(who, document.createTextNode(message.body));
      return item;
    }),
  );
}

byId('unlock-form').addEventListener('submit', (event) => {
  event.preventDefault();
  showError();
  const birthDate = byId<HTMLInputElement>('birth-date').value;
  if (!birthDate) return showError('Enter the date of birth');
  api<{ sessionToken: string; reference: string }>('/threads/unlock', {
    method: 'POST',
    body: JSON.stringify({ token: linkToken, birthDate }),
  })
    .then(async ({ sessionToken: token, reference }) => {
      sessionToken = token;
      byId('thread-title').textContent = `Messages about your request ${reference}`;
      await loadMessages();
      byId('unlock').hidden = true;
      byId('thread').hidden = false;
      byId('thread-title').focus();
    })
    .catch((error: unknown) =>
      showError(error instanceof Error ? error.message : 'Could not open your messages'),
    );
});

byId('reply-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const reply = byId<HTMLTextAreaElement>('reply');
  const body = reply.value.trim();
  if (!body) return showError('Write your reply');
  const attachments = uploads.map((key) => ({ key }));
  api('/threads/messages', {
    method: 'POST',
    body: JSON.stringify({ body, ...(attachments.length ? { attachments } : {}) }),
  })
    .then(async () => {
      reply.value = '';
      uploads = [];
      byId('uploaded').replaceChildren();
      showError();
      await loadMessages();
    })
    .catch((error: unknown) =>
      showError(error instanceof Error ? error.message : 'Your reply was not sent: try again'),
    );
});

byId<HTMLInputElement>('photos').addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  uploadFiles(
    [...(input.files ?? [])].slice(0, 5 - uploads.length),
    byId('uploaded'),
    (file) =>
      fetch('/api/threads/uploads', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionToken}` },
        body: JSON.stringify({ contentType: file.type, size: file.size }),
      }),
    (key) => uploads.push(key),
  );
});

if (!linkToken) showError('This link is not complete. Open it again from the message you were sent.');
