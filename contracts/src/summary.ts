// The immutable summary version: what closing a request freezes (triage writes it, in the close's
// transaction) and what the write-back files (record reads it, and nothing else of the request).
// It holds what the clinician saw and wrote: the form's questions and answers in the server's
// words, the thread both ways, the files as verified copies with their hashes, the outcome and the
// summary, who closed it and when. The patient's identity is not in it: it may be matched after the
// close, and the filing gate checks it as it stands.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf } from './schema';

/** One question and every answer given to it, in the words of the form version the patient answered. */
export const ShownAnswer = Type.Object({
  linkId: Type.String(),
  question: Type.String(),
  answers: Type.Array(Type.String()),
});
export type ShownAnswer = Static<typeof ShownAnswer>;

// patterns, not formats: record checks a loaded version with TypeBox's Value, which knows no formats
const DateTime = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** A message of the thread, either way, as it stood at the close. */
export const SummaryMessage = Type.Object({
  id: Type.String(),
  author: OneOf(['staff', 'patient']),
  /** The member of staff's name for a staff message (null when they are gone); null for the patient. */
  authorName: Nullable(Type.String()),
  body: Type.String(),
  at: DateTime,
});
export type SummaryMessage = Static<typeof SummaryMessage>;

/** A file the patient sent: the verified copy (a key the patient cannot write) and its hash. */
export const SummaryFile = Type.Object({
  id: Type.String(),
  key: Type.String({ pattern: '^verified/' }),
  sha256: Sha256,
  contentType: Type.String(),
  size: Type.Integer({ minimum: 1 }),
  sentAt: DateTime,
});
export type SummaryFile = Static<typeof SummaryFile>;

export const summaryFormat = 1;

/** The content of one summary version; its hash is `sha256(canonicalJson(content))`, hex. */
export const SummaryContent = Type.Object({
  format: Type.Literal(summaryFormat),
  consultation: Type.Object({
    id: Type.String(),
    reference: Type.String(),
    kind: OneOf(['medical', 'admin']),
    mode: OneOf(['online', 'video']),
    createdAt: DateTime,
  }),
  /** The exact form version answered (the questionnaire row, immutable once answered); null without a form. */
  form: Nullable(
    Type.Object({
      id: Type.String(),
      title: Nullable(Type.String()),
      url: Nullable(Type.String()),
      version: Nullable(Type.String()),
    }),
  ),
  answers: Type.Array(ShownAnswer),
  messages: Type.Array(SummaryMessage),
  files: Type.Array(SummaryFile),
  outcome: Type.Object({ code: Type.String(), display: Type.String() }),
  summary: Type.String(),
  closedBy: Type.Object({ id: Type.String(), name: Type.String() }),
  closedAt: DateTime,
});
export type SummaryContent = Static<typeof SummaryContent>;

/**
 * JSON with object keys sorted at every level and no whitespace: the same content always gives the
 * same text, whatever order PostgreSQL's jsonb hands the keys back in, so its hash can be checked.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('canonicalJson: a value JSON cannot carry');
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
