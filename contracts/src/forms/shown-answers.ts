/**
 * A patient's answers as staff see them and the GP record files them: each question in the words of
 * the exact form version the patient answered, each answer as that form labels it. Whatever text a
 * client sent with its answers (`item.text`, `valueCoding.display`) is never read: a client could
 * make a question say anything. One function for the dashboard and the frozen summary version, so
 * what is filed is what was shown. Imports nothing (the pages may import it through
 * `@gpc/contracts/forms/shown-answers`).
 */

/** One question and every answer given to it, in the form's words. */
export interface ShownAnswer {
  linkId: string;
  question: string;
  answers: string[];
}

/** The parts of a FHIR R4 Questionnaire item this reads. */
interface FormQuestion {
  linkId: string;
  text?: string;
  type?: string;
  answerOption?: {
    valueCoding?: { code?: string; display?: string };
    valueString?: string;
    valueInteger?: number;
    valueDate?: string;
  }[];
  item?: FormQuestion[];
}

/** The parts of a FHIR R4 QuestionnaireResponse item this reads (text it may carry is ignored). */
interface ResponseItem {
  linkId?: unknown;
  answer?: unknown;
  item?: unknown;
}

const flattenQuestions = (items: FormQuestion[] | undefined): FormQuestion[] =>
  (items ?? []).flatMap((item) => [item, ...flattenQuestions(item.item)]);

/** Every response item, nested ones (under items and under answers) included. */
function flattenResponse(items: unknown): ResponseItem[] {
  if (!Array.isArray(items)) return [];
  return items.flatMap((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null) return [];
    const item = raw as ResponseItem;
    const underAnswers = Array.isArray(item.answer)
      ? (item.answer as unknown[]).flatMap((answer) =>
          typeof answer === 'object' && answer !== null
            ? flattenResponse((answer as { item?: unknown }).item)
            : [],
        )
      : [];
    return [item, ...flattenResponse(item.item), ...underAnswers];
  });
}

/** An answer in the form's words: its option's label, yes/no, or the text or value the patient gave. */
function answerLabel(question: FormQuestion, raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const answer = raw as Record<string, unknown>;
  if (typeof answer.valueBoolean === 'boolean') return answer.valueBoolean ? 'Yes' : 'No';
  const coding = answer.valueCoding as { code?: unknown } | undefined;
  if (coding && typeof coding.code === 'string') {
    const option = question.answerOption?.find((candidate) => candidate.valueCoding?.code === coding.code);
    // the form's label, never the client's display; a code the form lacks is shown as the code itself
    return option?.valueCoding?.display ?? coding.code;
  }
  for (const key of ['valueString', 'valueDate', 'valueDateTime', 'valueTime', 'valueUri'] as const) {
    const value = answer[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  for (const key of ['valueInteger', 'valueDecimal'] as const) {
    const value = answer[key];
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

/**
 * The answers to `form` in `response`, in the form's order: one entry per question answered, with
 * every answer given to it (a multi-answer question, or a question a client sent twice, shows them
 * all). Items the form does not have are left out (the server refuses them at submission anyway).
 */
export function resolveAnswers(
  form: { item?: FormQuestion[] } | null | undefined,
  response: { item?: unknown } | null | undefined,
): ShownAnswer[] {
  if (!form || !response) return [];
  const given = new Map<string, unknown[]>();
  for (const item of flattenResponse(response.item)) {
    if (typeof item.linkId !== 'string' || !Array.isArray(item.answer)) continue;
    given.set(item.linkId, [...(given.get(item.linkId) ?? []), ...(item.answer as unknown[])]);
  }
  const shown: ShownAnswer[] = [];
  for (const question of flattenQuestions(form.item)) {
    if (question.type === 'group' || question.type === 'display') continue;
    const answers = (given.get(question.linkId) ?? [])
      .map((answer) => answerLabel(question, answer))
      .filter((label): label is string => label !== undefined);
    if (answers.length === 0) continue;
    shown.push({ linkId: question.linkId, question: question.text ?? question.linkId, answers });
  }
  return shown;
}
