import { button, element } from '../shared/nhsuk';

/**
 * The urgent-level red flag's page: call 111 or the surgery now; if the patient cannot, they may still
 * send the request, which arrives marked urgent (the server accepts it only with `urgentSendAnyway`).
 * Emergency flags stop the form instead (form-page.ts `stopPage`). No state: the choice is handed back.
 */
export function urgentInterstitial(
  advice: string,
  choices: { sendAnyway: () => void },
): { title: string; content: Node[] } {
  const callout = element('div', {
    class: 'nhsuk-card nhsuk-card--care nhsuk-card--care--urgent',
    id: 'urgent-advice',
  });
  const heading = element('div', { class: 'nhsuk-card--care__heading-container' });
  const title = element('h2', { class: 'nhsuk-card--care__heading' });
  const label = element('span', { role: 'text' });
  label.append(
    element('span', { class: 'nhsuk-u-visually-hidden' }, 'Urgent advice: '),
    'Call 111 or your surgery now',
  );
  title.append(label);
  heading.append(title);
  const body = element('div', { class: 'nhsuk-card__content' });
  body.append(element('p', {}, advice));
  const call111 = element('a', { href: 'tel:111', class: 'nhsuk-button' }, 'Call 111');
  const online = element(
    'a',
    { href: 'https://111.nhs.uk', class: 'nhsuk-button nhsuk-button--secondary' },
    'Go to 111.nhs.uk',
  );
  body.append(call111, element('span', {}, ' '), online);
  callout.append(heading, body);

  const send = button('Send anyway', { variant: 'secondary' });
  send.id = 'send-anyway';
  send.addEventListener('click', choices.sendAnyway);
  return {
    title: 'You need help today',
    content: [
      callout,
      element('h2', { class: 'nhsuk-heading-m' }, 'If you cannot call'),
      element(
        'p',
        {},
        'If you cannot call 111 or your surgery, you can still send this request: it will be marked urgent, and your surgery will see it first.',
      ),
      send,
    ],
  };
}
