import type { PauseView, PracticeNation, ResponseTargets } from '@gpc/contracts';
import { addSummaryRow, byId, element, tableRow } from '../shared/nhsuk';
import {
  currentPause,
  describeRule,
  minutesInWords,
  practiceTime,
  wallClockValue,
  weekdays,
  type PeriodDraft,
  type SettingsData,
  type Weekday,
} from './state';

/**
 * The practice settings page's views: each section filled from the loaded settings. The forms'
 * fields are in settings.html; these set their values and build the lists. The wiring in
 * settings-page.ts reads the forms and calls the API.
 */

export interface SettingsActions {
  moveRule: (index: number, by: -1 | 1) => void;
  removeRule: (index: number) => void;
  endPause: (pause: PauseView) => void;
}

export function renderSettings(data: SettingsData, actions: SettingsActions): void {
  const { settings } = data;
  byId('practice-line').textContent = `${settings.name} (${settings.odsCode})`;
  byId('bank-holiday-warning').hidden = !settings.bankHolidays.warning;
  byId('bank-holiday-text').textContent = settings.bankHolidays.warning ?? '';
  renderNation(settings.nation);
  renderHours(data);
  renderOutOfHours(data);
  renderResponse(data);
  renderTargets(settings.responseTargets);
  renderPauses(data, actions.endPause);
  renderRules(data, actions);
  renderRecordEndpoint(data);
  renderTransport(data);
  byId<HTMLInputElement>('nhs-login-offered').checked = settings.nhsLoginOffered;
  byId<HTMLInputElement>('cis2-sign-in-choice').checked = settings.cis2SignIn ?? false;
}

const nationNames: Record<PracticeNation, string> = {
  england: 'England',
  wales: 'Wales',
  scotland: 'Scotland',
  'northern-ireland': 'Northern Ireland',
};

/** Radio items (the fieldset and legend are the page's), with one checked. */
function radioItems(
  name: string,
  options: { value: string; label: string }[],
  checked: string,
): HTMLElement[] {
  return options.map((option, index) => {
    const id = `${name}-${index}`;
    const item = element('div', { class: 'nhsuk-radios__item' });
    const input = element('input', {
      class: 'nhsuk-radios__input',
      id,
      name,
      type: 'radio',
      value: option.value,
    });
    input.checked = option.value === checked;
    item.append(input, element('label', { class: 'nhsuk-label nhsuk-radios__label', for: id }, option.label));
    return item;
  });
}

function renderNation(nation: PracticeNation): void {
  const options = Object.entries(nationNames).map(([value, label]) => ({ value, label }));
  byId('nation-options').replaceChildren(...radioItems('nation', options, nation));
}

// ids of opening periods stay unique as periods are added and removed
let periodSerial = 0;

function renderHours({ settings }: SettingsData): void {
  byId('hours-england').hidden = settings.nation !== 'england';
  byId('hours-timezone').textContent =
    `Times are the practice's local time (${settings.timezone}), in 24-hour clock. A day with no periods is closed.`;
  byId('hours-days').replaceChildren(
    ...weekdays.map(({ day, name }) => dayFieldset(day, name, settings.openingHours[day] ?? [])),
  );
}

function dayFieldset(day: Weekday, name: string, periods: [string, string][]): HTMLElement {
  // the day's form group holds its error message, under the legend (web/src/shared/nhsuk.ts showFieldErrors)
  const group = element('div', { class: 'nhsuk-form-group gpc-day' });
  const fieldset = element('fieldset', { class: 'nhsuk-fieldset', id: `hours-${day}` });
  fieldset.append(element('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, name));
  const list = element('div', { class: 'gpc-periods', 'data-day': day });
  const closed = element('p', { class: 'nhsuk-body-s gpc-closed' }, 'Closed');
  const update = () => {
    closed.hidden = list.children.length > 0;
  };
  const add = (from: string, to: string) => {
    list.append(periodRow(name, from, to, update));
    update();
  };
  for (const [from, to] of periods) add(from, to);
  const addButton = element('button', {
    class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small',
    type: 'button',
  });
  addButton.append(
    'Add opening period',
    element('span', { class: 'nhsuk-u-visually-hidden' }, ` on ${name}`),
  );
  addButton.addEventListener('click', () => {
    add('', '');
    list.lastElementChild?.querySelector('input')?.focus();
  });
  update();
  fieldset.append(closed, list, addButton);
  group.append(fieldset);
  return group;
}

function periodRow(dayName: string, from: string, to: string, removed: () => void): HTMLElement {
  const serial = ++periodSerial;
  const row = element('div', { class: 'nhsuk-date-input gpc-period' });
  const field = (which: 'from' | 'to', label: string, value: string) => {
    const id = `period-${serial}-${which}`;
    const item = element('div', { class: 'nhsuk-date-input__item' });
    const labelElement = element('label', { class: 'nhsuk-label nhsuk-date-input__label', for: id });
    labelElement.append(element('span', { class: 'nhsuk-u-visually-hidden' }, `${dayName} `), label);
    const input = element('input', {
      class: 'nhsuk-input nhsuk-date-input__input nhsuk-input--width-5',
      id,
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'off',
      'data-period': which,
    });
    input.value = value;
    item.append(labelElement, input);
    return item;
  };
  const remove = element('button', {
    class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small gpc-period__remove',
    type: 'button',
  });
  remove.append('Remove', element('span', { class: 'nhsuk-u-visually-hidden' }, ` this ${dayName} period`));
  remove.addEventListener('click', () => {
    row.remove();
    removed();
  });
  row.append(field('from', 'Opens', from), field('to', 'Closes', to), remove);
  return row;
}

/** The opening periods as typed, day by day, with their fields' ids. */
export function readHoursDraft(): Record<Weekday, PeriodDraft[]> {
  const draft = {} as Record<Weekday, PeriodDraft[]>;
  for (const { day } of weekdays) {
    const list = byId('hours-days').querySelector(`[data-day="${day}"]`);
    draft[day] = [...(list?.querySelectorAll('.gpc-period') ?? [])].map((row) => {
      const from = row.querySelector<HTMLInputElement>('[data-period="from"]')!;
      const to = row.querySelector<HTMLInputElement>('[data-period="to"]')!;
      return { from: { id: from.id, value: from.value }, to: { id: to.id, value: to.value } };
    });
  }
  return draft;
}

function renderOutOfHours({ settings }: SettingsData): void {
  byId('out-of-hours-england').hidden = settings.nation !== 'england';
  byId('out-of-hours-options').replaceChildren(
    ...radioItems(
      'out-of-hours',
      [
        { value: 'open', label: 'Open: patients can send requests and are told when they will be read' },
        { value: 'closed', label: 'Closed: patients are told to call 111 or go to 111.nhs.uk' },
      ],
      settings.outOfHours,
    ),
  );
}

function renderResponse({ settings }: SettingsData): void {
  byId<HTMLTextAreaElement>('response-message').value = settings.responseTimeMessage ?? '';
  byId<HTMLInputElement>('daily-capacity').value = String(settings.dailyCapacity);
  byId('daily-capacity-hint').textContent =
    settings.nation === 'england'
      ? 'The form stays open in core hours however many requests arrive: past this number, patients are told they will get a reply the next working day.'
      : 'Past this number, the form closes for the rest of the day and patients are told to call 111.';
}

export const targetPriorities: readonly { priority: keyof ResponseTargets; name: string }[] = [
  { priority: 'urgent', name: 'Urgent' },
  { priority: 'soon', name: 'Soon' },
  { priority: 'routine', name: 'Routine' },
];

function renderTargets(targets: ResponseTargets): void {
  byId('targets-fields').replaceChildren(
    ...targetPriorities.map(({ priority, name }) => {
      const id = `target-${priority}`;
      const group = element('div', { class: 'nhsuk-form-group' });
      group.append(
        element('label', { class: 'nhsuk-label', for: id }, `${name} requests, in minutes`),
        element(
          'div',
          { class: 'nhsuk-hint', id: `${id}-hint` },
          `Now ${minutesInWords(targets[priority])}.`,
        ),
      );
      const input = element('input', {
        class: 'nhsuk-input nhsuk-input--width-5',
        id,
        type: 'text',
        inputmode: 'numeric',
        'aria-describedby': `${id}-hint`,
      });
      input.value = String(targets[priority]);
      group.append(input);
      return group;
    }),
  );
}

function renderPauses({ settings, pauses }: SettingsData, endPause: (pause: PauseView) => void): void {
  const zone = settings.timezone;
  const at = (iso: string) => practiceTime(iso, zone);
  const current = currentPause(pauses);
  const box = byId('pause-current');
  box.replaceChildren();
  if (current) {
    const callout = element('div', { class: 'nhsuk-warning-callout', id: 'pause-in-force' });
    const heading =
      current.status === 'in-force'
        ? `Online requests are paused until ${at(current.until)}`
        : `Online requests will be paused from ${at(current.from)} until ${at(current.until)}`;
    callout.append(element('h3', { class: 'nhsuk-warning-callout__label' }, heading));
    const list = element('dl', { class: 'nhsuk-summary-list' });
    addSummaryRow(list, 'Paused by', current.pausedBy.name);
    addSummaryRow(list, 'Reason', current.reason);
    addSummaryRow(list, 'From', at(current.from));
    addSummaryRow(list, 'Until', at(current.until));
    const end = element(
      'button',
      { class: 'nhsuk-button nhsuk-button--secondary', type: 'button' },
      'End pause now',
    );
    end.addEventListener('click', () => endPause(current));
    callout.append(list, end);
    box.append(callout);
  }
  byId('pause-form').hidden = current !== undefined;
  const now = new Date();
  const until = byId<HTMLInputElement>('pause-until');
  until.min = wallClockValue(now, zone);
  until.max = wallClockValue(new Date(now.getTime() + 24 * 3_600_000), zone);
  byId('pause-until-hint').textContent =
    `The practice's local time (${zone}). At most 24 hours from now; the pause ends by itself then.`;
  const rows = pauses.map((pause) =>
    tableRow(
      at(pause.from),
      at(pause.until),
      pause.pausedBy.name,
      pause.reason,
      pause.endedEarly
        ? `${at(pause.endedEarly.at)} by ${pause.endedEarly.by.name}`
        : pause.status === 'in-force'
          ? 'In force'
          : 'No',
    ),
  );
  byId('pause-rows').replaceChildren(...rows);
  byId('pause-table').hidden = rows.length === 0;
  byId('pause-none').hidden = rows.length > 0;
}

function renderRules(data: SettingsData, actions: SettingsActions): void {
  const { rules } = data;
  const small = (label: string, hidden: string, onClick: () => void) => {
    const control = element('button', {
      class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small',
      type: 'button',
    });
    control.append(label, element('span', { class: 'nhsuk-u-visually-hidden' }, ` ${hidden}`));
    control.addEventListener('click', onClick);
    return control;
  };
  const rows = rules.map((rule, index) => {
    const words = describeRule(rule, data);
    const controls = element('div', { class: 'gpc-rule-actions' });
    const which = `rule ${index + 1}`;
    if (index > 0) controls.append(small('Move up', which, () => actions.moveRule(index, -1)));
    if (index < rules.length - 1)
      controls.append(small('Move down', which, () => actions.moveRule(index, 1)));
    controls.append(small('Remove', which, () => actions.removeRule(index)));
    return tableRow(String(index + 1), words.requests, words.assignTo, words.priority, controls);
  });
  byId('rules-rows').replaceChildren(...rows);
  byId('rules-table').hidden = rows.length === 0;
  byId('rules-none').hidden = rows.length > 0;

  const formSelect = byId<HTMLSelectElement>('rule-form-slug');
  formSelect.replaceChildren(
    new Option('Any form', ''),
    ...data.forms.map((form) => new Option(form.title, form.slug)),
  );
  const assign = byId<HTMLSelectElement>('rule-assign');
  assign.replaceChildren(
    ...data.staff
      .filter((member) => member.active)
      .map((member) => new Option(`${member.name} (${member.role})`, member.id)),
  );
}

const authWords: Record<string, { how: string; secret: string }> = {
  none: { how: 'No sign-in', secret: 'Not set' },
  bearer: { how: 'A bearer token', secret: 'Token set' },
  client_credentials: { how: 'OAuth 2.0 client credentials', secret: 'Client secret set' },
};

function renderRecordEndpoint({ settings }: SettingsData): void {
  const { baseUrl, authType } = settings.fhir;
  const words = authWords[authType] ?? { how: authType, secret: 'Set' };
  const list = byId('fhir-summary');
  list.replaceChildren();
  addSummaryRow(list, 'FHIR base URL', baseUrl ?? 'Not set: summaries are not filed');
  addSummaryRow(list, 'Sign-in', words.how);
  addSummaryRow(list, 'Secret', words.secret);
  byId<HTMLInputElement>('fhir-base-url').value = baseUrl ?? '';
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="fhir-auth"]'))
    input.checked = input.value === authType;
  for (const id of ['fhir-token', 'fhir-token-url', 'fhir-client-id', 'fhir-client-secret', 'fhir-scope'])
    byId<HTMLInputElement>(id).value = '';
  showAuthFields();
}

const transportWords: Record<string, string> = {
  'fhir-r4': 'FHIR R4',
  'gp-connect-send-document': 'GP Connect Send Document over MESH',
};

function renderTransport({ settings }: SettingsData): void {
  const writeBack = settings.writeBack ?? {
    transport: 'fhir-r4' as const,
    sendDocument: { recipientMailbox: null, routeByPatient: false, recipientOdsCode: null },
  };
  const { sendDocument } = writeBack;
  const list = byId('transport-summary');
  list.replaceChildren();
  addSummaryRow(list, 'Sent by', transportWords[writeBack.transport] ?? writeBack.transport);
  if (writeBack.transport === 'gp-connect-send-document') {
    addSummaryRow(
      list,
      'To',
      sendDocument.routeByPatient
        ? "The patient's registered practice (MESH routing by patient)"
        : `MESH mailbox ${sendDocument.recipientMailbox ?? 'not set'}`,
    );
    addSummaryRow(list, 'Receiving organisation', sendDocument.recipientOdsCode ?? settings.odsCode);
  }
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="transport"]'))
    input.checked = input.value === writeBack.transport;
  byId<HTMLInputElement>('mesh-mailbox').value = sendDocument.recipientMailbox ?? '';
  byId<HTMLInputElement>('mesh-route-by-patient').checked = sendDocument.routeByPatient;
  byId<HTMLInputElement>('recipient-ods').value = sendDocument.recipientOdsCode ?? '';
  showTransportFields();
}

/** Shows the MESH fields when Send Document is chosen. */
export function showTransportFields(): void {
  const chosen = document.querySelector<HTMLInputElement>('input[name="transport"]:checked')?.value;
  byId('transport-mesh').hidden = chosen !== 'gp-connect-send-document';
}

/** Shows the fields of the sign-in chosen (the design system's conditional radios). */
export function showAuthFields(): void {
  const chosen = document.querySelector<HTMLInputElement>('input[name="fhir-auth"]:checked')?.value;
  byId('fhir-bearer').hidden = chosen !== 'bearer';
  byId('fhir-client').hidden = chosen !== 'client_credentials';
}

/** The success banner at the top of the page, focused so it is read out; no text hides it. */
export function showSaved(text?: string): void {
  const banner = byId('success-banner');
  banner.hidden = !text;
  byId('success-text').textContent = text ?? '';
  if (text) banner.focus();
}
