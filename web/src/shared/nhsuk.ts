/**
 * NHS.UK frontend components built in the page, one builder each, so the form, the thread and the
 * dashboard produce the same markup the design system documents (https://service-manual.nhs.uk/design-system).
 */

/** An element with attributes (in the order given) and, optionally, its text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The element with this id, which the page's markup must have. */
export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
};

/** A button; `secondary` and `warning` are the design system's other two kinds. */
export function button(
  label: string,
  options: { type?: 'button' | 'submit'; variant?: 'secondary' | 'warning' } = {},
): HTMLButtonElement {
  const classes = options.variant ? `nhsuk-button nhsuk-button--${options.variant}` : 'nhsuk-button';
  return element('button', { class: classes, type: options.type ?? 'button' }, label);
}

/**
 * Shows the page's error summary (web/partials/error-summary.html) with one message and moves focus
 * to it, so a screen reader announces it; no message hides it.
 */
export function showErrorSummary(message?: string): void {
  const summary = byId('error-summary');
  summary.hidden = !message;
  byId('error-text').textContent = message ?? '';
  if (message) summary.focus();
}

export interface RadioOption {
  value: string;
  label: string;
}

/** A fieldset of radios; `checked` is the value chosen before, if any. */
export function radios(
  name: string,
  options: RadioOption[],
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

export interface TextFieldOptions {
  type?: string;
  hint?: string;
  value?: string;
  multiline?: boolean;
  autocomplete?: string;
}

/** A labelled text input (or textarea), with its hint tied to it for screen readers. */
export function textField(id: string, label: string, options: TextFieldOptions = {}): HTMLDivElement {
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

/** A summary list row: a key and its value (text, or a node such as a link). */
export function summaryListRow(key: string, value: string | Node): HTMLDivElement {
  const row = element('div', { class: 'nhsuk-summary-list__row' });
  const dd = element('dd', { class: 'nhsuk-summary-list__value' });
  dd.append(value);
  row.append(element('dt', { class: 'nhsuk-summary-list__key' }, key), dd);
  return row;
}

/** Adds a row to a summary list and returns its value cell (to style it, for example). */
export function addSummaryRow(list: HTMLElement, key: string, value: string | Node): HTMLElement {
  const row = summaryListRow(key, value);
  list.append(row);
  return row.lastElementChild as HTMLElement;
}

/** A table row of body cells: text, or a node such as a link. */
export function tableRow(...cells: (string | Node)[]): HTMLTableRowElement {
  const row = element('tr', { class: 'nhsuk-table__row' });
  for (const content of cells) {
    const cell = element('td', { class: 'nhsuk-table__cell' });
    cell.append(content);
    row.append(cell);
  }
  return row;
}

/** A link that runs `onFollow` in the page instead of navigating (it still has an address to copy). */
export function actionLink(href: string, text: string, onFollow: () => void): HTMLAnchorElement {
  const link = element('a', { href }, text);
  link.addEventListener('click', (event) => {
    event.preventDefault();
    onFollow();
  });
  return link;
}

/** A link that opens in a new tab, without giving that tab a handle on this page. */
export const newTabLink = (href: string, text: string): HTMLAnchorElement =>
  element('a', { href, target: '_blank', rel: 'noopener' }, text);

/** One message of a conversation in a list: who and when in bold, then what was said. */
export function messageItem(heading: string, body: string): HTMLLIElement {
  const item = element('li');
  item.append(element('strong', {}, heading), document.createTextNode(body));
  return item;
}

/** A problem with what was typed into one field: the field's id and what to do about it. */
export interface FieldError {
  fieldId: string;
  text: string;
}

/**
 * The error summary with a list of problems, each linking to its field, and each field's own error
 * message in its form group (the design system's validation pattern); an empty list clears them all.
 * Uses the page's error summary (web/partials/error-summary.html).
 */
export function showFieldErrors(errors: FieldError[]): void {
  for (const group of document.querySelectorAll('.nhsuk-form-group--error'))
    group.classList.remove('nhsuk-form-group--error');
  for (const message of document.querySelectorAll('.gpc-field-error')) {
    for (const field of document.querySelectorAll(`[aria-describedby~="${message.id}"]`)) {
      const rest = field
        .getAttribute('aria-describedby')!
        .split(' ')
        .filter((id) => id !== message.id);
      if (rest.length > 0) field.setAttribute('aria-describedby', rest.join(' '));
      else field.removeAttribute('aria-describedby');
    }
    message.remove();
  }
  for (const input of document.querySelectorAll(
    '.nhsuk-input--error, .nhsuk-textarea--error, .nhsuk-select--error',
  ))
    input.classList.remove('nhsuk-input--error', 'nhsuk-textarea--error', 'nhsuk-select--error');
  const summary = byId('error-summary');
  summary.querySelector('.nhsuk-error-summary__list')?.remove();
  byId('error-text').textContent = '';
  summary.hidden = errors.length === 0;
  if (errors.length === 0) return;
  const list = element('ul', { class: 'nhsuk-list nhsuk-error-summary__list' });
  for (const error of errors) {
    const item = element('li');
    item.append(
      actionLink(`#${error.fieldId}`, error.text, () => {
        const target = document.getElementById(error.fieldId);
        target?.scrollIntoView({ block: 'center' });
        target?.focus();
      }),
    );
    list.append(item);
    markFieldError(error);
  }
  summary.querySelector('.nhsuk-error-summary__body')?.append(list);
  summary.focus();
}

/** A field's own error message, above it in its form group, and read out with it. */
function markFieldError({ fieldId, text }: FieldError): void {
  const field = document.getElementById(fieldId);
  const group = field?.closest('.nhsuk-form-group');
  if (!field || !group) return;
  group.classList.add('nhsuk-form-group--error');
  const kind = field.tagName === 'TEXTAREA' ? 'textarea' : field.tagName === 'SELECT' ? 'select' : 'input';
  if (field.classList.contains(`nhsuk-${kind}`)) field.classList.add(`nhsuk-${kind}--error`);
  const id = `${fieldId}-error`;
  if (document.getElementById(id)) return; // two problems in one field: the first is shown
  const message = element('span', { class: 'nhsuk-error-message gpc-field-error', id });
  message.append(element('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), text);
  // after the group's hint, label or legend, before the field
  const before =
    group.querySelector(':scope > .nhsuk-hint, :scope > fieldset > .nhsuk-hint') ??
    group.querySelector(':scope > label, :scope > fieldset > legend');
  if (before) before.after(message);
  else group.prepend(message);
  const described = field.getAttribute('aria-describedby');
  field.setAttribute('aria-describedby', described ? `${described} ${id}` : id);
}
