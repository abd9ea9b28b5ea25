/**
 * Self-care advice on a form's answer option: many people can look after this themselves, so the
 * form offers the NHS advice before the request goes on. Triage writes it into its forms, the online
 * form reads it; like red-flags.ts it imports nothing and has its own subpath for the form's bundle.
 */

/** Marks an answer option that many people can look after themselves: the form offers the advice first. */
export const selfCareExtensionUrl = 'https://gp-consult.example/fhir/StructureDefinition/self-care';

/** What the patient is offered: a sentence of advice and a link to the NHS page with more. */
export interface SelfCare {
  advice: string;
  link: string;
}

/** The parts of a FHIR extension self-care advice uses: a complex extension of `advice` and `link`. */
interface SelfCareExtensionPart {
  url: string;
  valueString?: string;
  valueUrl?: string;
  extension?: SelfCareExtensionPart[];
}

/** The extension for an answer option (FHIR `Questionnaire.item.answerOption.extension`). */
export function selfCareExtension({ advice, link }: SelfCare): SelfCareExtensionPart[] {
  return [
    {
      url: selfCareExtensionUrl,
      extension: [
        { url: 'advice', valueString: advice },
        { url: 'link', valueUrl: link },
      ],
    },
  ];
}

/** The self-care advice a chosen answer carries, if any. */
export function selfCareOffered(
  question: {
    answerOption?: { valueCoding?: { code?: string }; extension?: SelfCareExtensionPart[] }[];
  },
  answer: { valueCoding?: { code?: string } },
): SelfCare | undefined {
  const option = question.answerOption?.find(
    (candidate) => candidate.valueCoding?.code === answer.valueCoding?.code,
  );
  const extension = option?.extension?.find((candidate) => candidate.url === selfCareExtensionUrl);
  const advice = extension?.extension?.find((part) => part.url === 'advice')?.valueString;
  const link = extension?.extension?.find((part) => part.url === 'link')?.valueUrl;
  return advice && link ? { advice, link } : undefined;
}
