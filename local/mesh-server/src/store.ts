// The stand-in's messages: in memory, written to a JSON file after every change when one is given,
// so `npm start` keeps them across restarts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type MessageStatus = 'uploading' | 'accepted' | 'acknowledged' | 'undeliverable';

export interface StoredMessage {
  messageId: string;
  messageType: 'DATA' | 'REPORT';
  /** Sender's mailbox. */
  from: string;
  /** Recipient's mailbox (for an unresolved address: the address as given). */
  to: string;
  workflowId: string | null;
  subject: string | null;
  localId: string | null;
  fileName: string | null;
  contentType: string | null;
  mexContentType: string | null;
  contentEncoding: string | null;
  totalChunks: number;
  chunks: (Buffer | null)[];
  status: MessageStatus;
  createdAt: string;
  statusAt: string;
  acknowledgedAt: string | null;
  /** For a REPORT, and for a DATA message that was not delivered: MESH's status. */
  linkedMessageId: string | null;
  statusCode: string | null;
  statusEvent: string | null;
  statusDescription: string | null;
}

/** `20220228174323222_ABCDEF`: the shape of Spine's MESH message ids. */
export function newMessageId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-T:.Z]/g, '');
  return `${stamp}_${randomBytes(3).toString('hex').toUpperCase()}`;
}

type Serialised = Omit<StoredMessage, 'chunks'> & { chunks: (string | null)[] };

export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();

  constructor(private readonly dataFile?: string) {
    if (dataFile && existsSync(dataFile)) {
      const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as { messages: Serialised[] };
      for (const message of saved.messages) {
        this.messages.set(message.messageId, {
          ...message,
          chunks: message.chunks.map((c) => (c === null ? null : Buffer.from(c, 'base64'))),
        });
      }
    }
  }

  get(messageId: string): StoredMessage | undefined {
    return this.messages.get(messageId.toUpperCase());
  }

  all(): StoredMessage[] {
    return [...this.messages.values()];
  }

  add(message: StoredMessage): void {
    this.messages.set(message.messageId, message);
    this.save();
  }

  /** Delivered and not yet acknowledged, oldest first. */
  inbox(mailboxId: string): StoredMessage[] {
    return this.all().filter((m) => m.to === mailboxId && m.status === 'accepted');
  }

  clear(mailboxId?: string): void {
    for (const message of this.all()) {
      if (!mailboxId || message.to === mailboxId || message.from === mailboxId)
        this.messages.delete(message.messageId);
    }
    this.save();
  }

  /** Writes the file (whole, then renamed into place) after a change. */
  save(): void {
    if (!this.dataFile) return;
    mkdirSync(path.dirname(this.dataFile), { recursive: true });
    const serialised: Serialised[] = this.all().map((m) => ({
      ...m,
      chunks: m.chunks.map((c) => (c === null ? null : c.toString('base64'))),
    }));
    const temporary = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ messages: serialised }));
    renameSync(temporary, this.dataFile);
  }
}
