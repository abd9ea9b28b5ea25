import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';

/**
 * Marks an answer as a red flag: on a boolean item, answering yes; on an answer option, choosing it.
 * Its valueString is the urgent advice to show (999 or NHS 111) instead of sending the form.
 */
export const redFlagExtensionUrl = 'https://gp-consult.example/fhir/StructureDefinition/red-flag';

export interface RedFlag {
  linkId: string;
  advice: string;
}

function adviceOf(extensions: { url: string; valueString?: string }[] | undefined): string | undefined {
  return extensions?.find((extension) => extension.url === redFlagExtensionUrl)?.valueString;
}

function flatten<T extends { item?: T[] }>(items: T[] | undefined): T[] {
  return (items ?? []).flatMap((item) => [item, ...flatten(item.item)]);
}

/** The red flags a response raises against its questionnaire, if any. */
export function redFlagsRaised(questionnaire: Questionnaire, response: QuestionnaireResponse): RedFlag[] {
  const questions = new Map(
    flatten<QuestionnaireItem>(questionnaire.item).map((item) => [item.linkId, item]),
  );
  const raised: RedFlag[] = [];
  for (const answered of flatten<QuestionnaireResponseItem>(response.item)) {
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
export function responseProblems(questionnaire: Questionnaire, response: QuestionnaireResponse): string[] {
  const questions = new Map(
    flatten<QuestionnaireItem>(questionnaire.item).map((item) => [item.linkId, item]),
  );
  const answered = new Map(
    flatten<QuestionnaireResponseItem>(response.item).map((item) => [item.linkId, item]),
  );
  const problems: string[] = [];
  for (const [linkId, item] of answered) {
    const question = questions.get(linkId);
    if (!question) {
      problems.push(`"${linkId}" is not a question on this form`);
      continue;
    }
    for (const answer of item.answer ?? []) {
      const fits =
        question.type === 'boolean'
          ? typeof answer.valueBoolean === 'boolean'
          : question.type === 'choice'
            ? (question.answerOption ?? []).some(
                (option) => option.valueCoding?.code === answer.valueCoding?.code,
              )
            : typeof answer.valueString === 'string' &&
              answer.valueString.length <= (question.maxLength ?? 2000);
      if (!fits) problems.push(`the answer to "${linkId}" is not one this question takes`);
    }
  }
  for (const question of questions.values()) {
    if (question.required && !(answered.get(question.linkId)?.answer?.length ?? 0)) {
      problems.push(`"${question.linkId}" needs an answer`);
    }
  }
  return problems;
}
