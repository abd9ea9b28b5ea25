import { cis2TestUsers } from './cis2-users';
import { nhsLoginTestUsers } from './test-users';

/** The stand-in's sign-in pages: plain, accessible HTML, no script, nothing from the network. */

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (character) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character,
  );

const styles = `
  body { font-family: Arial, sans-serif; font-size: 19px; line-height: 1.5; color: #212b32; background: #f0f4f5; margin: 0; }
  header { background: #005eb8; color: #fff; padding: 16px 24px; font-weight: bold; font-size: 24px; }
  main { max-width: 640px; margin: 0 auto; padding: 24px; }
  .notice { background: #fff9c4; border-left: 8px solid #ffeb3b; padding: 12px 16px; }
  label { display: block; font-weight: bold; margin-top: 16px; }
  input[type=email], input[type=password] { display: block; width: 100%; max-width: 400px; font-size: 19px; padding: 8px; border: 2px solid #4c6272; box-sizing: border-box; }
  input:focus, button:focus { outline: 4px solid #ffeb3b; outline-offset: 0; box-shadow: 0 0 0 8px #212b32; }
  button { font-size: 19px; font-weight: bold; padding: 12px 16px; margin-top: 24px; border: 0; border-radius: 4px; cursor: pointer; }
  .primary { background: #007f3b; color: #fff; box-shadow: 0 4px 0 #00401e; }
  .secondary { background: #fff; color: #005eb8; border: 2px solid #005eb8; }
  .error { border: 4px solid #d5281b; background: #fff; padding: 12px 16px; }
  .error h2 { margin-top: 0; }
  table { border-collapse: collapse; background: #fff; margin-top: 8px; width: 100%; }
  th, td { border: 1px solid #d8dde0; padding: 6px 8px; text-align: left; font-size: 16px; }
  code { font-size: 16px; }
`;

/** Which service a page stands in for: its name in the title and the header. */
export type Brand = 'NHS login' | 'NHS CIS2';

function layout(title: string, body: string, brand: Brand = 'NHS login'): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - ${brand} (local stand-in)</title>
<style>${styles}</style>
</head>
<body>
<header>${brand} <span style="font-weight:normal">(local stand-in)</span></header>
<main id="maincontent">
${body}
</main>
</body>
</html>`;
}

/** The sign-in page of a sign-in in progress: the test users and their passwords, then the form. */
export function signInPage(options: {
  action: string;
  cancelAction: string;
  clientName: string;
  error?: string;
  email?: string;
}): string {
  const users = nhsLoginTestUsers
    .map(
      (user) =>
        `<tr><td>${escapeHtml(`${user.givenName} ${user.familyName}`)}</td><td>${user.proofingLevel}</td>` +
        `<td><code>${escapeHtml(user.email)}</code></td><td><code>${escapeHtml(user.password)}</code></td></tr>`,
    )
    .join('');
  const error = options.error
    ? `<div class="error" role="alert" tabindex="-1"><h2>There is a problem</h2><p>${escapeHtml(options.error)}</p></div>`
    : '';
  return layout(
    'Sign in',
    `${error}
<h1>Sign in to continue to ${escapeHtml(options.clientName)}</h1>
<p class="notice">This is a local stand-in for NHS login, for development and tests only. Sign in as one of these test users:</p>
<table>
<caption style="text-align:left;font-weight:bold">Test users</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Identity verified to</th><th scope="col">Email address</th><th scope="col">Password</th></tr></thead>
<tbody>${users}</tbody>
</table>
<form method="post" action="${escapeHtml(options.action)}" novalidate>
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(options.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button class="primary" type="submit">Continue</button>
</form>
<form method="post" action="${escapeHtml(options.cancelAction)}">
<button class="secondary" type="submit">Cancel and go back</button>
</form>`,
  );
}

/** A sign-in that cannot go on (expired, or not found): the user goes back to the service. */
export function problemPage(message: string, brand: Brand = 'NHS login'): string {
  return layout(
    'There is a problem',
    `<h1>There is a problem</h1><p>${escapeHtml(message)}</p><p>Go back to the service and start again.</p>`,
    brand,
  );
}

/**
 * The CIS2 stand-in's sign-in page: its test staff (who they are, their roles and the assurance
 * level their authenticator reaches) and the form, where the email and passcode stand in for a
 * smartcard or an authenticator app.
 */
export function cis2SignInPage(options: {
  action: string;
  cancelAction: string;
  clientName: string;
  /** What the service asked for (`acr_values`), shown so a developer sees why a user is refused. */
  asked: string;
  error?: string;
  email?: string;
}): string {
  const users = cis2TestUsers
    .map(
      (user) =>
        `<tr><td>${escapeHtml(`${user.givenName} ${user.familyName}`)}</td><td>${escapeHtml(user.description)}</td>` +
        `<td>${escapeHtml(user.roles.map((role) => `${role.role_code.split(':').pop()!} at ${role.org_code}`).join(', '))}</td>` +
        `<td><code>${escapeHtml(user.email)}</code></td><td><code>${escapeHtml(user.password)}</code></td></tr>`,
    )
    .join('');
  const error = options.error
    ? `<div class="error" role="alert" tabindex="-1"><h2>There is a problem</h2><p>${escapeHtml(options.error)}</p></div>`
    : '';
  return layout(
    'Sign in',
    `${error}
<h1>Sign in to continue to ${escapeHtml(options.clientName)}</h1>
<p class="notice">This is a local stand-in for NHS Care Identity Service 2 (CIS2), for development and tests only. The service asked for <code>${escapeHtml(options.asked)}</code>. Sign in as one of these test staff (the passcode stands in for a smartcard or an authenticator app):</p>
<table>
<caption style="text-align:left;font-weight:bold">Test staff</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Who</th><th scope="col">National RBAC roles</th><th scope="col">Email address</th><th scope="col">Passcode</th></tr></thead>
<tbody>${users}</tbody>
</table>
<form method="post" action="${escapeHtml(options.action)}" novalidate>
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(options.email ?? '')}">
<label for="password">Passcode</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button class="primary" type="submit">Continue</button>
</form>
<form method="post" action="${escapeHtml(options.cancelAction)}">
<button class="secondary" type="submit">Cancel and go back</button>
</form>`,
    'NHS CIS2',
  );
}
