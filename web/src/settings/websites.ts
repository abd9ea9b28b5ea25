import { byId, element, tableRow } from '../shared/nhsuk';

/**
 * The practice's own websites on the settings page: where the widget may open the online form
 * (the web server's frame-ancestors for the form, and the origins the form and widget talk with).
 * Admins add a site by its address and remove one from the list; each is kept as its origin.
 */

/** This machine, where plain http is fine (the development practice's test pages). */
const localHosts = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The origin of what an admin typed (`www.example.nhs.uk` becomes `https://www.example.nhs.uk`,
 * a page's address becomes its site's), or why it cannot be one.
 */
export function websiteOriginFrom(input: string): { origin: string } | { error: string } {
  const typed = input.trim();
  if (!typed) return { error: 'Enter the website’s address, like https://www.riverside-surgery.nhs.uk' };
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(typed) ? typed : `https://${typed}`);
  } catch {
    return { error: 'Enter a website address, like https://www.riverside-surgery.nhs.uk' };
  }
  if (url.protocol === 'http:' && !localHosts.includes(url.hostname))
    return { error: 'The website must use https:// (a secure connection)' };
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { error: 'Enter a website address starting with https://' };
  if (url.username || url.password) return { error: 'Enter the website’s address without a user name' };
  return { origin: url.origin };
}

/** The list of websites, each with its Remove button. */
export function renderWebsites(origins: readonly string[], remove: (origin: string) => void): void {
  const rows = origins.map((origin) => {
    const control = element('button', {
      class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small',
      type: 'button',
    });
    control.append('Remove', element('span', { class: 'nhsuk-u-visually-hidden' }, ` ${origin}`));
    control.addEventListener('click', () => remove(origin));
    return tableRow(origin, control);
  });
  byId('websites-rows').replaceChildren(...rows);
  byId('websites-table').hidden = rows.length === 0;
  byId('websites-none').hidden = rows.length > 0;
}
