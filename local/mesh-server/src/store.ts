// The stand-in's messages: in memory, and kept across restarts (`npm start`, the chaos run) in a
// journal when a file is given: each change appends one line (a message's state, a chunk once, a
// deletion), so a change costs its own size however many messages the mailboxes hold. Rewriting the
// whole file at each change cost the whole mailbox (tens of MB after a few hundred reports), until
// the stand-in took longer per request than its callers sent. Read back and compacted at start.
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

type State = Omit<StoredMessage, 'chunks'>;
/** The whole file as an earlier version wrote it, chunks in base64. */
type WholeFile = { messages: (State & { chunks: (string | null)[] })[] };
/** One line of the journal. */
type Line =
  { message: State } | { chunk: { messageId: string; index: number; data: string } } | { deleted: string };

export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();

  constructor(private readonly dataFile?: string) {
    if (!dataFile || !existsSync(dataFile)) return;
    for (const line of readFileSync(dataFile, 'utf8').split('\n')) this.replay(line);
    this.compact();
  }

  get(messageId: string): StoredMessage | undefined {
    return this.messages.get(messageId.toUpperCase());
  }

  all(): StoredMessage[] {
    return [...this.messages.values()];
  }

  /** A new message, with the chunks it has so far. */
  add(message: StoredMessage): void {
    this.messages.set(message.messageId, message);
    this.append(linesOf(message));
  }

  /** A chunk of a message being uploaded. */
  putChunk(message: StoredMessage, index: number, data: Buffer): void {
    message.chunks[index] = data;
    this.append([chunkLine(message, index, data)]);
  }

  /** A message's status (or other metadata) changed in place. */
  update(message: StoredMessage): void {
    this.append([{ message: stateOf(message) }]);
  }

  /** Delivered and not yet acknowledged, oldest first. */
  inbox(mailboxId: string): StoredMessage[] {
    return this.all().filter((m) => m.to === mailboxId && m.status === 'accepted');
  }

  clear(mailboxId?: string): void {
    const deleted: Line[] = [];
    for (const message of this.all()) {
      if (!mailboxId || message.to === mailboxId || message.from === mailboxId) {
        this.messages.delete(message.messageId);
        deleted.push({ deleted: message.messageId });
      }
    }
    this.append(deleted);
  }

  private append(lines: Line[]): void {
    if (!this.dataFile || lines.length === 0) return;
    mkdirSync(path.dirname(this.dataFile), { recursive: true });
    appendFileSync(this.dataFile, lines.map(asText).join(''));
  }

  /** One journal line (or the whole file as an earlier version wrote it); a torn last line is skipped. */
  private replay(text: string): void {
    if (!text.trim()) return;
    let line: Line | WholeFile;
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      return; // cut short by a kill mid-write: that change was never answered
    }
    if ('messages' in line) {
      for (const { chunks, ...state } of line.messages)
        this.messages.set(state.messageId, {
          ...state,
          chunks: chunks.map((c) => (c === null ? null : Buffer.from(c, 'base64'))),
        });
    } else if ('message' in line) {
      const known = this.messages.get(line.message.messageId);
      const chunks = known?.chunks ?? Array.from({ length: line.message.totalChunks }, () => null);
      this.messages.set(line.message.messageId, { ...line.message, chunks });
    } else if ('chunk' in line) {
      const message = this.messages.get(line.chunk.messageId);
      if (message) message.chunks[line.chunk.index] = Buffer.from(line.chunk.data, 'base64');
    } else {
      this.messages.delete(line.deleted);
    }
  }

  /** The journal rewritten as what it holds now (whole, then renamed into place). */
  private compact(): void {
    if (!this.dataFile) return;
    const temporary = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(temporary, this.all().flatMap(linesOf).map(asText).join(''));
    renameSync(temporary, this.dataFile);
  }
}

const asText = (line: Line): string => `${JSON.stringify(line)}\n`;

/** A message as journal lines: its state, then each chunk it has. */
const linesOf = (message: StoredMessage): Line[] => [
  { message: stateOf(message) },
  ...message.chunks.flatMap((chunk, index) => (chunk ? [chunkLine(message, index, chunk)] : [])),
];

function stateOf(message: StoredMessage): State {
  const { chunks: _chunks, ...state } = message;
  return state;
}

const chunkLine = (message: StoredMessage, index: number, data: Buffer): Line => ({
  chunk: { messageId: message.messageId, index, data: data.toString('base64') },
});
