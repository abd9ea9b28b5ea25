import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import type { QuestionnaireItem, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import type { PracticeInfo, PreferredContact } from '@gpc/contracts';
// Through their own subpaths: the package index would bring TypeBox into the form's bundle.
import { redFlagsRaised } from '@gpc/contracts/forms/red-flags';
import { selfCareOffered, type SelfCare } from '@gpc/contracts/forms/self-care';
import { ApiError } from '../shared/api';
import {
  addSummaryRow,
  button,
  element,
  radios,
  showErrorSummary as showError,
  textField,
} from '../shared/nhsuk';
import { uploadFiles } from '../shared/upload';
import { PracticeApi } from './api';
import { replyNotice, takesRequests, unavailableContent } from './availability';
import { urgentInterstitial } from './urgent';
import { state, submission } from './state';
import { nhsLoginDetails, startWithNhsLogin } from './nhs-login';
import { listenForWidget } from './embedding';

/**
 * The online consultation form: the practice's Questionnaire one question per page (easy on a phone),
 * urgent answers stop it with advice, then who it is for, the patient's details, a check page, and
 * a reference. Data stays in the page until the practice has confirmed it.
 */

const ods = new URLSearchParams(location.search).get('practice') ?? '';
const api = new PracticeApi(ods);
// from the start: the practice website's widget says hello as soon as the frame has loaded
listenForWidget(ods, document.getElementById('widget-actions')!);

const stepRoot = document.getElementById('step')!;

function page(title: string, ...content: Node[]): void {
  showError(undefined);
  const heading = element('h1', { tabindex: '-1' }, title);
  stepRoot.replaceChildren(heading, ...content);
  heading.focus();
  window.scrollTo(0, 0);
}

function form(onSubmit: (data: FormData) => void, ...fields: Node[]): HTMLFormElement {
  const node = element('form', { novalidate: '' });
  node.append(...fields, button('Continue', { type: 'submit' }));
  node.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit(new FormData(node));
  });
  return node;
}

const value = (data: FormData, name: string): string => {
  const entry = data.get(name);
  return typeof entry === 'string' ? entry.trim() : '';
};

/** The red flag an answer raises (its advice and level), by the same rule triage refuses a submission with. */
function redFlagOf(item: QuestionnaireItem, answer: QuestionnaireResponseItemAnswer) {
  const [raised] = redFlagsRaised(state.form ?? {}, { item: [{ linkId: item.linkId, answer: [answer] }] });
  return raised;
}

/** Call 111 or the surgery now; "Send anyway" marks the request urgent and carries on with `next`. */
function urgentPage(advice: string, next: () => void): void {
  const { title, content } = urgentInterstitial(advice, {
    sendAnyway: () => {
      state.urgentSendAnyway = true;
      next();
    },
  });
  page(title, ...content);
}

function selfCarePage(advice: SelfCare, next: () => void): void {
  const more = element(
    'a',
    { href: advice.link, target: '_blank', rel: 'noopener' },
    'Read the NHS advice (opens in a new tab)',
  );
  const carryOn = button('Continue with my request');
  carryOn.addEventListener('click', next);
  const inset = element('div', { class: 'nhsuk-inset-text' });
  const linkLine = element('p');
  linkLine.append(more);
  inset.append(element('p', {}, advice.advice), linkLine);
  page(
    'You may be able to look after this yourself',
    inset,
    element('p', {}, 'If you still want your GP surgery to look at it, carry on.'),
    carryOn,
  );
}

function stopPage(advice: string, linkId: string): void {
  // only the fact of the stop is recorded; the patient is not kept waiting for it
  void api.redFlagStopped({ formId: state.formId ?? '', linkId }).catch(() => undefined);
  const callout = element('div', { class: 'nhsuk-card nhsuk-card--care nhsuk-card--care--emergency' });
  const heading = element('div', { class: 'nhsuk-card--care__heading-container' });
  heading.append(element('h2', { class: 'nhsuk-card--care__heading' }, 'Get help now'));
  const body = element('div', { class: 'nhsuk-card__content' });
  body.append(element('p', {}, advice));
  const call999 = element('a', { href: 'tel:999', class: 'nhsuk-button nhsuk-button--warning' }, 'Call 999');
  const call111 = element(
    'a',
    { href: 'https://111.nhs.uk', class: 'nhsuk-button nhsuk-button--secondary' },
    'Go to 111.nhs.uk',
  );
  body.append(call999, element('span', {}, ' '), call111);
  callout.append(heading, body);
  page(
    'Do not use this form',
    callout,
    element('p', {}, 'Your answers have not been sent to your GP surgery.'),
  );
}

function choosePage(): void {
  const practice = state.practice!;
  const options = practice.forms.map((f) => ({
    value: f.id,
    label: f.kind === 'medical' ? `${f.title} (medical)` : f.title,
  }));
  page(
    'What do you need help with?',
    element('p', {}, 'If you need help urgently, call 111. In an emergency, call 999.'),
    replyNotice(practice.availability),
    form(
      (data) => {
        const chosen = value(data, 'form');
        if (!chosen) return showError('Choose what you need help with');
        void loadForm(chosen);
      },
      radios('form', options, 'Choose one', state.formId),
    ),
  );
}

async function loadForm(formId: string): Promise<void> {
  try {
    state.form = await api.form(formId);
  } catch {
    return showError('We could not load this form. Please try again.');
  }
  state.formId = formId;
  state.position = 0;
  questionPage();
}

/** The field a question is answered in, filled with the answer given before, if any. */
function questionField(item: QuestionnaireItem, previous: QuestionnaireResponseItemAnswer | undefined): Node {
  if (item.type === 'boolean') {
    const yesNo = [
      { value: 'yes', label: 'Yes' },
      { value: 'no', label: 'No' },
    ];
    return radios(
      item.linkId,
      yesNo,
      'Choose one',
      previous ? (previous.valueBoolean ? 'yes' : 'no') : undefined,
    );
  }
  if (item.type === 'choice') {
    const options = (item.answerOption ?? []).map((option) => ({
      value: option.valueCoding?.code ?? '',
      label: option.valueCoding?.display ?? '',
    }));
    return radios(item.linkId, options, 'Choose one', previous?.valueCoding?.code);
  }
  return textField(item.linkId, item.required ? 'Your answer' : 'Your answer (optional)', {
    multiline: item.type === 'text',
    value: previous?.valueString,
  });
}

/** The FHIR answer for what the patient chose or typed. */
function answerFrom(item: QuestionnaireItem, raw: string): QuestionnaireResponseItemAnswer {
  if (item.type === 'boolean') return { valueBoolean: raw === 'yes' };
  if (item.type === 'choice') {
    const option = item.answerOption?.find((candidate) => candidate.valueCoding?.code === raw);
    return { valueCoding: option?.valueCoding ?? { code: raw } };
  }
  return { valueString: raw.slice(0, item.maxLength ?? 2000) };
}

/** Takes a question's answer: urgent ones stop the form, self-care advice is offered, otherwise on to the next. */
function answerQuestion(item: QuestionnaireItem, raw: string): void {
  if (!raw && item.required) return showError('Answer this question to continue');
  if (raw) {
    const answer = answerFrom(item, raw);
    const flag = redFlagOf(item, answer);
    if (flag?.level === 'emergency') return stopPage(flag.advice, item.linkId);
    if (flag && !state.urgentSendAnyway) return urgentPage(flag.advice, () => answerQuestion(item, raw));
    state.answers.set(item.linkId, answer);
    const selfCare = selfCareOffered(item, answer);
    if (selfCare) {
      state.position++;
      return selfCarePage(selfCare, questionPage);
    }
  } else state.answers.delete(item.linkId);
  state.position++;
  questionPage();
}

function questionPage(): void {
  const item = state.form?.item?.[state.position];
  if (!item) return uploadPage();
  page(
    item.text ?? '',
    form(
      (data) => answerQuestion(item, value(data, item.linkId)),
      questionField(item, state.answers.get(item.linkId)),
    ),
  );
}

function uploadPage(): void {
  const input = element('input', {
    class: 'nhsuk-file-upload',
    id: 'photos',
    type: 'file',
    accept: 'image/jpeg,image/png,image/heic,image/webp,application/pdf',
    multiple: '',
  });
  const group = element('div', { class: 'nhsuk-form-group' });
  group.append(
    element('label', { class: 'nhsuk-label', for: 'photos' }, 'Add photos or documents (optional)'),
    element(
      'div',
      { class: 'nhsuk-hint', id: 'photos-hint' },
      'Up to 5 files, 10 MB each: photos (JPEG, PNG, HEIC) or PDF.',
    ),
    input,
  );
  input.setAttribute('aria-describedby', 'photos-hint');
  const list = element('ul', { class: 'nhsuk-list', id: 'uploaded' });
  for (const upload of state.uploads) list.append(element('li', {}, `${upload.name}: uploaded`));
  input.addEventListener('change', () => {
    uploadFiles(
      [...(input.files ?? [])].slice(0, 5 - state.uploads.length),
      list,
      (request) => api.upload(request),
      (key, name) => state.uploads.push({ key, name }),
    );
  });
  page(
    'Photos or documents',
    element('p', {}, 'A photo can help, for example of a rash. You can skip this.'),
    // signed in with NHS login, the request is for the patient themself
    form(() => (state.nhsLogin ? aboutPage() : whoPage()), group, list),
  );
}

function whoPage(): void {
  page(
    'Who is this request for?',
    form(
      (data) => {
        const who = value(data, 'who');
        if (!who) return showError('Choose who the request is for');
        if (who === 'someone-else') {
          const name = value(data, 'proxy-name');
          const relationship = value(data, 'proxy-relationship');
          if (!name || !relationship) return showError('Give your name and how you know the patient');
          state.proxy = { name, relationship };
        } else state.proxy = undefined;
        aboutPage();
      },
      radios(
        'who',
        [
          { value: 'myself', label: 'Myself' },
          { value: 'someone-else', label: 'Someone else, on their behalf' },
        ],
        'Choose one',
        state.proxy ? 'someone-else' : undefined,
      ),
      textField('proxy-name', 'If for someone else: your full name', {
        value: state.proxy?.name,
        autocomplete: 'name',
      }),
      textField('proxy-relationship', 'If for someone else: your relationship to them', {
        hint: 'For example, parent or carer',
        value: state.proxy?.relationship,
      }),
    ),
  );
}

/** The ways a surgery may contact the patient, as the submission contract names them. */
const contactOptions: { value: PreferredContact; label: string }[] = [
  { value: 'sms', label: 'Text message' },
  { value: 'phone', label: 'Phone call' },
  { value: 'email', label: 'Email' },
];

function aboutPage(): void {
  const about = state.about;
  page(
    state.proxy ? 'About the patient' : 'About you',
    form(
      (data) => {
        for (const key of [
          // with NHS login these come from it (state.about holds its name and date of birth)
          ...(state.nhsLogin ? [] : ['given-name', 'family-name', 'birth-date', 'nhs-number']),
          'phone',
          'email',
          'contact',
          'times',
        ])
          about[key] = value(data, key);
        if (!about['given-name'] || !about['family-name'])
          return showError('Enter the patient’s first and last name');
        if (!/^\d{4}-\d{2}-\d{2}$/.test(about['birth-date'] ?? ''))
          return showError('Enter the date of birth');
        if (!about.contact) return showError('Choose how the surgery should contact you');
        if (about.contact !== 'email' && !about.phone)
          return showError('Enter a phone number to be contacted by phone or text message');
        if (about.contact === 'email' && !about.email)
          return showError('Enter an email address to be contacted by email');
        checkPage();
      },
      ...(state.nhsLogin
        ? [nhsLoginDetails(state.nhsLogin.identity)]
        : [
            textField('given-name', 'First name', { value: about['given-name'], autocomplete: 'given-name' }),
            textField('family-name', 'Last name', {
              value: about['family-name'],
              autocomplete: 'family-name',
            }),
            textField('birth-date', 'Date of birth', {
              type: 'date',
              value: about['birth-date'],
              autocomplete: 'bday',
            }),
            textField('nhs-number', 'NHS number (optional)', {
              hint: 'A 10 digit number, like 943 476 5919. You can find it on letters from the NHS.',
              value: about['nhs-number'],
            }),
          ]),
      textField('phone', 'Mobile or phone number', { type: 'tel', value: about.phone, autocomplete: 'tel' }),
      textField('email', 'Email address (optional)', {
        type: 'email',
        value: about.email,
        autocomplete: 'email',
      }),
      radios('contact', contactOptions, 'How should the surgery contact you?', about.contact),
      textField('times', 'When is best to contact you? (optional)', { value: about.times }),
    ),
  );
}

function checkPage(): void {
  const list = element('dl', { class: 'nhsuk-summary-list' });
  for (const item of state.form?.item ?? []) {
    const answer = state.answers.get(item.linkId);
    if (!answer) continue;
    addSummaryRow(
      list,
      item.text ?? item.linkId,
      answer.valueString ?? answer.valueCoding?.display ?? (answer.valueBoolean ? 'Yes' : 'No'),
    );
  }
  const about = state.about;
  addSummaryRow(list, 'Name', `${about['given-name']} ${about['family-name']}`);
  // as people write it (12 October 1988), not the date field's 1988-10-12
  const birthDate = about['birth-date'] ?? '';
  addSummaryRow(
    list,
    'Date of birth',
    /^\d{4}-\d{2}-\d{2}$/.test(birthDate)
      ? new Date(`${birthDate}T00:00:00Z`).toLocaleDateString('en-GB', {
          day: 'numeric',
          month: 'long',
          year: 'numeric',
          timeZone: 'UTC',
        })
      : birthDate,
  );
  if (about['nhs-number']) addSummaryRow(list, 'NHS number', about['nhs-number']);
  // how the surgery will reach them: a mistyped number is seen here, not after the surgery cannot call
  const how = contactOptions.find((option) => option.value === about.contact)?.label;
  const where = about.contact === 'email' ? about.email : about.phone;
  if (how) addSummaryRow(list, 'Contact by', where ? `${how}: ${where}` : how);
  if (about.times) addSummaryRow(list, 'Best time to contact', about.times);
  if (state.proxy) addSummaryRow(list, 'Sent by', `${state.proxy.name} (${state.proxy.relationship})`);
  const send = button('Send request');
  send.addEventListener('click', () => void submit(send));
  page('Check your answers before sending', list, send);
}

/** What the patient sees when the practice refuses the request. */
function refused(error: ApiError): void {
  if (error.code === 'redFlag') return stopPage(error.message, 'server');
  if (error.code === 'urgentRedFlag') return urgentPage(error.message, checkPage);
  if (error.code === 'practicePaused') {
    const { title, content } = unavailableContent({ state: 'paused', message: error.message, until: '' });
    return page(title, ...content);
  }
  if (error.code === 'practiceClosed' || error.code === 'capacityReached')
    return page('Your GP surgery cannot take this request now', element('p', {}, error.message));
  showError(error.message);
}

async function submit(sendButton: HTMLButtonElement): Promise<void> {
  sendButton.disabled = true;
  try {
    donePage((await api.submit(submission(state))).reference);
  } catch (error) {
    if (error instanceof ApiError) return refused(error);
    showError(
      'We could not send your request. Check your internet connection and try again: nothing has been lost.',
    );
  } finally {
    sendButton.disabled = false;
  }
}

function donePage(reference: string): void {
  const panel = element('div', { class: 'nhsuk-panel nhsuk-panel--confirmation' });
  const body = element('div', { class: 'nhsuk-panel__body' }, 'Your reference is ');
  // in one piece: on a phone it broke at its hyphen ("GPC-" / "6N3FGSWP"), easy to copy down wrong
  const code = element('strong', {}, reference);
  code.style.whiteSpace = 'nowrap';
  body.append(code);
  panel.append(element('h2', { class: 'nhsuk-panel__title' }, 'Request sent'), body);
  page(
    'Your request has been sent',
    panel,
    element(
      'p',
      {},
      `${state.practice?.name ?? 'Your GP surgery'} will contact you. If you get worse or need help sooner, call 111.`,
    ),
  );
  state.idempotencyKey = crypto.randomUUID();
  state.uploads = [];
  state.urgentSendAnyway = undefined;
}

async function start(): Promise<void> {
  let practice: PracticeInfo;
  try {
    practice = await api.practice();
  } catch {
    return page(
      'This form is not available',
      element('p', {}, 'Check the link, or contact your GP surgery by phone.'),
    );
  }
  state.practice = practice;
  document.getElementById('practice-name')!.textContent = practice.name;
  if (!takesRequests(practice.availability)) {
    const { title, content } = unavailableContent(practice.availability);
    return page(title, ...content);
  }
  await startWithNhsLogin(practice.odsCode, state, page, choosePage);
}

void start();
