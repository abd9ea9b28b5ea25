import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import type { Questionnaire, QuestionnaireItem, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
// Through its own subpath: the package index would bring TypeBox into the form's bundle.
import { redFlagsRaised } from '@gpc/contracts/forms/red-flags';
import { uploadFiles } from '../shared/upload';

/**
 * The online consultation form: the practice's Questionnaire one question per page (easy on a phone),
 * urgent answers stop it with advice, then who it is for, the patient's details, a check page, and
 * a reference. Data stays in the page until the practice has confirmed it.
 */

const selfCareUrl = 'https://gp-consult.example/fhir/StructureDefinition/self-care';
const ods = new URLSearchParams(location.search).get('practice') ?? '';
const api = (path: string) => `/api/practices/${encodeURIComponent(ods)}${path}`;

interface PracticeInfo {
  name: string;
  openNow: boolean;
  forms: { id: string; slug: string; kind: string; title: string }[];
}

interface State {
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
}

const state: State = {
  answers: new Map(),
  position: 0,
  about: {},
  uploads: [],
  idempotencyKey: crypto.randomUUID(),
};
const stepRoot = document.getElementById('step')!;

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(message: string | undefined): void {
  const summary = document.getElementById('error-summary')!;
  summary.hidden = !message;
  document.getElementById('error-text')!.textContent = message ?? '';
  if (message) summary.focus();
}

function page(title: string, ...content: Node[]): void {
  showError(undefined);
  const heading = element('h1', { tabindex: '-1' }, title);
  stepRoot.replaceChildren(heading, ...content);
  heading.focus();
  window.scrollTo(0, 0);
}

function continueButton(label = 'Continue'): HTMLButtonElement {
  return element('button', { class: 'nhsuk-button', type: 'submit' }, label);
}

function radios(
  name: string,
  options: { value: string; label: string }[],
  legend: string,
  checked?: string,
): HTMLFieldSetElement {
  const fieldset = element('fieldset', { class: 'nhsuk-fieldset' });
  fieldset.append(element('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, legend));
  const group = element('div', { class: 'nhsuk-radios' });
  options.forEach((option, index) => {
    const id = `${name}-${index}`;
    const item = element('div', { class: 'nhsuk-radios__item' });
    const input = element('input', {
      class: 'nhsuk-radios__input',
      id,
      name,
      type: 'radio',
      value: option.value,
    });
    if (option.value === checked) input.checked = true;
    item.append(input, element('label', { class: 'nhsuk-label nhsuk-radios__label', for: id }, option.label));
    group.append(item);
  });
  fieldset.append(group);
  return fieldset;
}

function textField(
  id: string,
  label: string,
  options: { type?: string; hint?: string; value?: string; multiline?: boolean; autocomplete?: string } = {},
): HTMLDivElement {
  const group = element('div', { class: 'nhsuk-form-group' });
  group.append(element('label', { class: 'nhsuk-label', for: id }, label));
  if (options.hint) group.append(element('div', { class: 'nhsuk-hint', id: `${id}-hint` }, options.hint));
  const input = options.multiline
    ? element('textarea', { class: 'nhsuk-textarea', id, name: id, rows: '5' })
    : element('input', { class: 'nhsuk-input', id, name: id, type: options.type ?? 'text' });
  if (options.hint) input.setAttribute('aria-describedby', `${id}-hint`);
  if (options.autocomplete) input.setAttribute('autocomplete', options.autocomplete);
  input.value = options.value ?? '';
  group.append(input);
  return group;
}

function form(onSubmit: (data: FormData) => void, ...fields: Node[]): HTMLFormElement {
  const node = element('form', { novalidate: '' });
  node.append(...fields, continueButton());
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

/** The urgent advice an answer raises, by the same rule triage refuses a submission with. */
function redFlagAdvice(item: QuestionnaireItem, answer: QuestionnaireResponseItemAnswer): string | undefined {
  const [raised] = redFlagsRaised(state.form ?? {}, { item: [{ linkId: item.linkId, answer: [answer] }] });
  return raised?.advice;
}

/** Self-care advice an answer option carries, if any: offered before the request goes on. */
function selfCareAdvice(
  item: QuestionnaireItem,
  answer: QuestionnaireResponseItemAnswer,
): { advice: string; link: string } | undefined {
  const option = item.answerOption?.find(
    (candidate) => candidate.valueCoding?.code === answer.valueCoding?.code,
  );
  const extension = option?.extension?.find((candidate) => candidate.url === selfCareUrl);
  const advice = extension?.extension?.find((part) => part.url === 'advice')?.valueString;
  const link = extension?.extension?.find((part) => part.url === 'link')?.valueUrl;
  return advice && link ? { advice, link } : undefined;
}

function selfCarePage(advice: { advice: string; link: string }, next: () => void): void {
  const more = element(
    'a',
    { href: advice.link, target: '_blank', rel: 'noopener' },
    'Read the NHS advice (opens in a new tab)',
  );
  const carryOn = element('button', { class: 'nhsuk-button', type: 'button' }, 'Continue with my request');
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
  void fetch(api('/red-flag-events'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ formId: state.formId, linkId }),
  }).catch(() => undefined);
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
  const response = await fetch(api(`/forms/${formId}`));
  if (!response.ok) return showError('We could not load this form. Please try again.');
  state.form = (await response.json()) as Questionnaire;
  state.formId = formId;
  state.position = 0;
  questionPage();
}

function questionPage(): void {
  const items = state.form?.item ?? [];
  const item = items[state.position];
  if (!item) return uploadPage();
  const previous = state.answers.get(item.linkId);
  let field: Node;
  if (item.type === 'boolean') {
    field = radios(
      item.linkId,
      [
        { value: 'yes', label: 'Yes' },
        { value: 'no', label: 'No' },
      ],
      'Choose one',
      previous ? (previous.valueBoolean ? 'yes' : 'no') : undefined,
    );
  } else if (item.type === 'choice') {
    field = radios(
      item.linkId,
      (item.answerOption ?? []).map((option) => ({
        value: option.valueCoding?.code ?? '',
        label: option.valueCoding?.display ?? '',
      })),
      'Choose one',
      previous?.valueCoding?.code,
    );
  } else {
    field = textField(item.linkId, item.required ? 'Your answer' : 'Your answer (optional)', {
      multiline: item.type === 'text',
      value: previous?.valueString,
    });
  }
  page(
    item.text ?? '',
    form((data) => {
      const raw = value(data, item.linkId);
      if (!raw && item.required) return showError('Answer this question to continue');
      if (raw) {
        const answer: QuestionnaireResponseItemAnswer =
          item.type === 'boolean'
            ? { valueBoolean: raw === 'yes' }
            : item.type === 'choice'
              ? {
                  valueCoding: item.answerOption?.find((o) => o.valueCoding?.code === raw)?.valueCoding ?? {
                    code: raw,
                  },
                }
              : { valueString: raw.slice(0, item.maxLength ?? 2000) };
        const advice = redFlagAdvice(item, answer);
        if (advice) return stopPage(advice, item.linkId);
        state.answers.set(item.linkId, answer);
        const selfCare = selfCareAdvice(item, answer);
        if (selfCare) {
          state.position++;
          return selfCarePage(selfCare, questionPage);
        }
      } else state.answers.delete(item.linkId);
      state.position++;
      questionPage();
    }, field),
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
      (file) =>
        fetch(api('/uploads'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ contentType: file.type, size: file.size }),
        }),
      (key, name) => state.uploads.push({ key, name }),
    );
  });
  page(
    'Photos or documents',
    element('p', {}, 'A photo can help, for example of a rash. You can skip this.'),
    form(() => whoPage(), group, list),
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

function aboutPage(): void {
  const about = state.about;
  page(
    state.proxy ? 'About the patient' : 'About you',
    form(
      (data) => {
        for (const key of [
          'given-name',
          'family-name',
          'birth-date',
          'nhs-number',
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
      textField('given-name', 'First name', { value: about['given-name'], autocomplete: 'given-name' }),
      textField('family-name', 'Last name', { value: about['family-name'], autocomplete: 'family-name' }),
      textField('birth-date', 'Date of birth', {
        type: 'date',
        value: about['birth-date'],
        autocomplete: 'bday',
      }),
      textField('nhs-number', 'NHS number (optional)', {
        hint: 'A 10 digit number, like 943 476 5919. You can find it on letters from the NHS.',
        value: about['nhs-number'],
      }),
      textField('phone', 'Mobile or phone number', { type: 'tel', value: about.phone, autocomplete: 'tel' }),
      textField('email', 'Email address (optional)', {
        type: 'email',
        value: about.email,
        autocomplete: 'email',
      }),
      radios(
        'contact',
        [
          { value: 'sms', label: 'Text message' },
          { value: 'phone', label: 'Phone call' },
          { value: 'email', label: 'Email' },
        ],
        'How should the surgery contact you?',
        about.contact,
      ),
      textField('times', 'When is best to contact you? (optional)', { value: about.times }),
    ),
  );
}

function checkPage(): void {
  const list = element('dl', { class: 'nhsuk-summary-list' });
  const row = (key: string, text: string) => {
    const entry = element('div', { class: 'nhsuk-summary-list__row' });
    entry.append(
      element('dt', { class: 'nhsuk-summary-list__key' }, key),
      element('dd', { class: 'nhsuk-summary-list__value' }, text),
    );
    list.append(entry);
  };
  for (const item of state.form?.item ?? []) {
    const answer = state.answers.get(item.linkId);
    if (!answer) continue;
    row(
      item.text ?? item.linkId,
      answer.valueString ?? answer.valueCoding?.display ?? (answer.valueBoolean ? 'Yes' : 'No'),
    );
  }
  row('Name', `${state.about['given-name']} ${state.about['family-name']}`);
  row('Date of birth', state.about['birth-date'] ?? '');
  if (state.proxy) row('Sent by', `${state.proxy.name} (${state.proxy.relationship})`);
  const send = element('button', { class: 'nhsuk-button', type: 'button' }, 'Send request');
  send.addEventListener('click', () => void submit(send));
  page('Check your answers before sending', list, send);
}

async function submit(button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  const about = state.about;
  const body = {
    idempotencyKey: state.idempotencyKey,
    formId: state.formId,
    patient: {
      givenName: about['given-name'],
      familyName: about['family-name'],
      birthDate: about['birth-date'],
      ...(about['nhs-number'] ? { nhsNumber: about['nhs-number'] } : {}),
      ...(about.phone ? { phone: about.phone } : {}),
      ...(about.email ? { email: about.email } : {}),
    },
    submittedBy: state.proxy ? { type: 'proxy', ...state.proxy } : { type: 'patient' },
    preferredContact: about.contact,
    ...(about.times ? { preferredTimes: about.times } : {}),
    ...(state.uploads.length > 0 ? { attachments: state.uploads.map(({ key }) => ({ key })) } : {}),
    answers: {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: state.form?.url,
      // each answer carries its question's text, so staff read the question, not its id
      item: [...state.answers].map(([linkId, answer]) => ({
        linkId,
        text: state.form?.item?.find((item) => item.linkId === linkId)?.text,
        answer: [answer],
      })),
    },
  };
  try {
    const response = await fetch(api('/submissions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const result = (await response.json()) as { reference?: string; code?: string; message?: string };
    if (response.ok && result.reference) return donePage(result.reference);
    if (result.code === 'redFlag') return stopPage(result.message ?? '', 'server');
    if (result.code === 'practiceClosed' || result.code === 'capacityReached')
      return page('Your GP surgery cannot take this request now', element('p', {}, result.message ?? ''));
    showError(result.message ?? 'Something went wrong. Please try again.');
  } catch {
    showError(
      'We could not send your request. Check your internet connection and try again: nothing has been lost.',
    );
  } finally {
    button.disabled = false;
  }
}

function donePage(reference: string): void {
  const panel = element('div', { class: 'nhsuk-panel nhsuk-panel--confirmation' });
  panel.append(
    element('h2', { class: 'nhsuk-panel__title' }, 'Request sent'),
    element('div', { class: 'nhsuk-panel__body' }, `Your reference is ${reference}`),
  );
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
}

async function start(): Promise<void> {
  const response = await fetch(api('')).catch(() => undefined);
  if (!response?.ok)
    return page(
      'This form is not available',
      element('p', {}, 'Check the link, or contact your GP surgery by phone.'),
    );
  state.practice = (await response.json()) as PracticeInfo;
  document.getElementById('practice-name')!.textContent = state.practice.name;
  if (!state.practice.openNow) {
    return page(
      'Your GP surgery is not taking online requests at the moment',
      element(
        'p',
        {},
        'Try again when the surgery is open. If you need help now, call 111. In an emergency, call 999.',
      ),
    );
  }
  choosePage();
}

void start();
