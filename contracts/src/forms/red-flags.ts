/**
 * The red-flag rule and the checks of a form's answers, one copy for both sides: triage refuses a
 * submission by them, and the online form stops the patient by the same rule before anything is sent.
 * Imports nothing, so the form's bundle stays small: the page imports this file through its own
 * subpath, `@gpc/contracts/forms/red-flags`, not through the package index (which loads TypeBox).
 */

/**
 * Marks an answer as a red flag: on a boolean item, answering yes; on an answer option, choosing it.
 * Its valueString is the urgent advice to show (999 or NHS 111) instead of sending the form.
 */
export const redFlagExtensionUrl = 'https://gp-consult.example/fhir/StructureDefinition/red-flag';

/**
 * The level of a red flag, beside it on the same item or answer option (valueCode). Two levels:
 * - `emergency` (the default, and every form written before levels existed): stop, call 999; the
 *   form cannot be sent.
 * - `urgent`: call 111 or the practice now; the patient may still send the request (they confirm
 *   "send anyway"), and it arrives marked urgent at the top of the practice's queue.
 * A separate extension, not a part of the red-flag one: a FHIR extension has a value or parts, never
 * both, and the red-flag extension's value (the advice) is what forms already carry.
 */
export const redFlagLevelExtensionUrl = 'https://gp-consult.example/fhir/StructureDefinition/red-flag-level';

export type RedFlagLevel = 'emergency' | 'urgent';

/** The parts of a FHIR extension the rule reads. */
export interface ExtensionPart {
  url: string;
  valueString?: string;
  valueCode?: string;
}

/** The parts of a FHIR Questionnaire item the rule reads (a FHIR R4 `Questionnaire.item` is one). */
export interface RuleQuestion {
  linkId: string;
  type: string;
  required?: boolean;
  maxLength?: number;
  extension?: ExtensionPart[];
  answerOption?: { valueCoding?: { code?: string }; valueString?: string; extension?: ExtensionPart[] }[];
  item?: RuleQuestion[];
}

/** One answer, as a FHIR R4 `QuestionnaireResponse.item.answer` carries it. */
export interface RuleAnswer {
  valueBoolean?: boolean;
  valueCoding?: { code?: string };
  valueString?: string;
}

/** The parts of a FHIR QuestionnaireResponse item the rule reads. */
export interface RuleResponseItem {
  linkId: string;
  answer?: RuleAnswer[];
  item?: RuleResponseItem[];
}

export interface RedFlag {
  linkId: string;
  advice: string;
  level: RedFlagLevel;
}

function adviceOf(extensions: ExtensionPart[] | undefined): string | undefined {
  return extensions?.find((extension) => extension.url === redFlagExtensionUrl)?.valueString;
}

/** The level set beside a red flag: `urgent` only when said so, `emergency` otherwise. */
function levelOf(extensions: ExtensionPart[] | undefined): RedFlagLevel {
  const level = extensions?.find((extension) => extension.url === redFlagLevelExtensionUrl)?.valueCode;
  return level === 'urgent' ? 'urgent' : 'emergency';
}

/** The red-flag extensions for an item or answer option: the advice, and its level when urgent. */
export function redFlagExtensions(advice: string, level: RedFlagLevel = 'emergency'): ExtensionPart[] {
  const flag = { url: redFlagExtensionUrl, valueString: advice };
  return level === 'urgent' ? [flag, { url: redFlagLevelExtensionUrl, valueCode: 'urgent' }] : [flag];
}

/**
 * What raised flags mean for the request: the first emergency stops it; otherwise the first urgent
 * one asks the patient to call now, and may be sent past; none, nothing.
 */
export function redFlagOutcome(
  raised: RedFlag[],
): { stop: RedFlag; urgent?: undefined } | { stop?: undefined; urgent: RedFlag } | Record<string, never> {
  const stop = raised.find((flag) => flag.level === 'emergency');
  if (stop) return { stop };
  const urgent = raised.find((flag) => flag.level === 'urgent');
  return urgent ? { urgent } : {};
}

function flatten<T extends { item?: T[] }>(items: T[] | undefined): T[] {
  return (items ?? []).flatMap((item) => [item, ...flatten(item.item)]);
}

/** The red flags a response raises against its questionnaire, if any. */
export function redFlagsRaised(
  questionnaire: { item?: RuleQuestion[] },
  response: { item?: RuleResponseItem[] },
): RedFlag[] {
  const questions = new Map(flatten(questionnaire.item).map((item) => [item.linkId, item]));
  const raised: RedFlag[] = [];
  for (const answered of flatten(response.item)) {
    const question = questions.get(answered.linkId);
    if (!question) continue;
    for (const answer of answered.answer ?? []) {
      if (question.type === 'boolean' && answer.valueBoolean === true) {
        const advice = adviceOf(question.extension);
        if (advice) raised.push({ linkId: question.linkId, advice, level: levelOf(question.extension) });
      }
      const chosen = answer.valueCoding?.code ?? answer.valueString;
      const option = question.answerOption?.find(
        (candidate) => (candidate.valueCoding?.code ?? candidate.valueString) === chosen,
      );
      const advice = option && adviceOf(option.extension);
      if (advice) raised.push({ linkId: question.linkId, advice, level: levelOf(option.extension) });
    }
  }
  return raised;
}

/**
 * What is wrong with a response to its questionnaire, if anything: questions it does not have,
 * required questions left unanswered (the urgent ones among them), answers of the wrong kind.
 */
export function responseProblems(
  questionnaire: { item?: RuleQuestion[] },
  response: { item?: RuleResponseItem[] },
): string[] {
  const questions = new Map(flatten(questionnaire.item).map((item) => [item.linkId, item]));
  const answered = new Map(flatten(response.item).map((item) => [item.linkId, item]));
  const problems: string[] = [];
  for (const [linkId, item] of answered) {
    const question = questions.get(linkId);
    if (!question) {
      problems.push(`"${linkId}" is not a question on this form`);
      continue;
    }
    for (const answer of item.answer ?? []) {
      if (!answerFits(question, answer))
        problems.push(`the answer to "${linkId}" is not one this question takes`);
    }
  }
  for (const question of questions.values()) {
    if (question.required && !(answered.get(question.linkId)?.answer?.length ?? 0)) {
      problems.push(`"${question.linkId}" needs an answer`);
    }
  }
  return problems;
}

/** Whether an answer is of the kind its question takes: yes/no, one of its options, or text short enough. */
function answerFits(question: RuleQuestion, answer: RuleAnswer): boolean {
  if (question.type === 'boolean') return typeof answer.valueBoolean === 'boolean';
  if (question.type === 'choice') {
    return (question.answerOption ?? []).some(
      (option) => option.valueCoding?.code === answer.valueCoding?.code,
    );
  }
  return typeof answer.valueString === 'string' && answer.valueString.length <= (question.maxLength ?? 2000);
}
