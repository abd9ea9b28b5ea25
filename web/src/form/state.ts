import type { Questionnaire, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import type { NhsLoginIdentityView, PracticeInfo, PreferredContact, SubmissionBody } from '@gpc/contracts';

/**
 * What the patient has entered so far, kept in the page until the practice confirms the request,
 * and the request it makes. No DOM: the pages in form-page.ts read and fill it.
 */

export interface FormState {
  practice?: PracticeInfo;
  formId?: string;
  form?: Questionnaire;
  answers: Map<string, QuestionnaireResponseItemAnswer>;
  position: number;
  proxy?: { name: string; relationship: string };
  /** Keys of files uploaded to storage, sent with the request. */
  uploads: { key: string; name: string }[];
  about: Record<string, string>;
  /** One per request: a retry after a failure or a double click sends the same key, never a second request. */
  idempotencyKey: string;
  /** The patient was told to call 111 or the surgery now (an urgent red flag) and chose to send anyway. */
  urgentSendAnyway?: boolean;
  /** Signed in with NHS login (nhs-login.ts): the session token sent with the request, and who it says. */
  nhsLogin?: { token: string; identity: NhsLoginIdentityView };
}

export const state: FormState = {
  answers: new Map(),
  position: 0,
  about: {},
  uploads: [],
  idempotencyKey: crypto.randomUUID(),
};

/** The request as the API takes it, from what the patient entered. */
export function submission(entered: FormState): SubmissionBody {
  const about = entered.about;
  return {
    idempotencyKey: entered.idempotencyKey,
    formId: entered.formId ?? '',
    patient: {
      givenName: about['given-name'] ?? '',
      familyName: about['family-name'] ?? '',
      birthDate: about['birth-date'] ?? '',
      ...(about['nhs-number'] ? { nhsNumber: about['nhs-number'] } : {}),
      ...(about.phone ? { phone: about.phone } : {}),
      ...(about.email ? { email: about.email } : {}),
    },
    submittedBy: entered.proxy ? { type: 'proxy', ...entered.proxy } : { type: 'patient' },
    // aboutPage only goes on once one of the three is chosen
    preferredContact: about.contact as PreferredContact,
    ...(about.times ? { preferredTimes: about.times } : {}),
    ...(entered.urgentSendAnyway ? { urgentSendAnyway: true } : {}),
    // the server takes the name, date of birth and NHS number from NHS login, not from `patient`
    ...(entered.nhsLogin ? { nhsLoginSession: entered.nhsLogin.token } : {}),
    ...(entered.uploads.length > 0 ? { attachments: entered.uploads.map(({ key }) => ({ key })) } : {}),
    answers: {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: entered.form?.url,
      // each answer carries its question's text, so staff read the question, not its id
      item: [...entered.answers].map(([linkId, answer]) => ({
        linkId,
        text: entered.form?.item?.find((item) => item.linkId === linkId)?.text,
        answer: [answer],
      })),
    },
  };
}
