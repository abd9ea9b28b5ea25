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

/** The parts of a FHIR extension the rule reads. */
interface ExtensionPart {
  url: string;
  valueString?: string;
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
}

function adviceOf(extensions: ExtensionPart[] | undefined): string | undefined {
  return extensions?.find((extension) => extension.url === redFlagExtensionUrl)?.valueString;
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
        if (advice) raised.push({ linkId: question.linkId, advice });
      }
      const chosen = answer.valueCoding?.code ?? answer.valueString;
      const option = question.answerOption?.find(
        (candidate) => (candidate.valueCoding?.code ?? candidate.valueString) === chosen,
      );
      const advice = option && adviceOf(option.extension);
      if (advice) raised.push({ linkId: question.linkId, advice });
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
