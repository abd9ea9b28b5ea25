import type { Questionnaire } from '@medplum/fhirtypes';
import type {
  PracticeInfo,
  QuestionnaireBody,
  RedFlagEvent,
  SubmissionBody,
  SubmissionReceipt,
  UploadGrant,
  UploadRequest,
} from '@gpc/contracts';
import { ApiClient } from '../shared/api';

/** The public form's calls to triage, for one practice (by its ODS code); no DOM. */
export class PracticeApi {
  private readonly client = new ApiClient({ unexplained: () => 'Something went wrong. Please try again.' });
  private readonly base: string;

  constructor(ods: string) {
    this.base = `/practices/${encodeURIComponent(ods)}`;
  }

  practice(): Promise<PracticeInfo> {
    return this.client.get(this.base);
  }

  /** One of the practice's forms: a FHIR Questionnaire. */
  form(formId: string): Promise<QuestionnaireBody & Questionnaire> {
    return this.client.get(`${this.base}/forms/${formId}`);
  }

  /** Records that a question stopped the form (which one, nothing about the patient). */
  redFlagStopped(event: RedFlagEvent): Promise<void> {
    return this.client.send('POST', `${this.base}/red-flag-events`, event);
  }

  upload(request: UploadRequest): Promise<UploadGrant> {
    return this.client.send('POST', `${this.base}/uploads`, request);
  }

  submit(submission: SubmissionBody): Promise<SubmissionReceipt> {
    return this.client.send('POST', `${this.base}/submissions`, submission);
  }
}
