/**
 * Drives the stand-in's sign-in over HTTP as a browser would, for tests: follows the redirects from
 * an authorization request (or a client's own start URL), fills in the sign-in form, and stops at
 * the first redirect that leaves the provider (the client's redirect URI with its code).
 */

export interface HttpSignIn {
  /** Where the provider sent the browser back to (the client's redirect URI and its parameters). */
  returnedTo: URL;
  /** The authorization request the provider was sent (with its parameters), when it was reached. */
  authorizationRequest: URL | undefined;
}

/** Cookies by name, sent back to the provider's origin. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * Starts at `start` (any URL whose redirects lead to the provider at `providerOrigin`), signs in with
 * `credentials` (or presses "Cancel and go back" when `cancel`), and returns where the provider
 * sent the browser back to. Throws with the page's words when the provider refuses the sign-in.
 */
export async function signInByHttp(
  start: string | URL,
  providerOrigin: string,
  credentials: { email: string; password: string } | { cancel: true },
  startHeaders: Record<string, string> = {},
): Promise<HttpSignIn> {
  const jar = new CookieJar();
  let authorizationRequest: URL | undefined;
  let url = new URL(start);
  let init: RequestInit = { headers: startHeaders };
  for (let hop = 0; hop < 20; hop++) {
    const onProvider = url.origin === new URL(providerOrigin).origin;
    if (onProvider && !authorizationRequest && url.pathname.endsWith('/authorize'))
      authorizationRequest = url;
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(onProvider ? { cookie: jar.header() } : {}),
      },
    });
    if (onProvider) jar.take(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (onProvider && next.origin !== url.origin) return { returnedTo: next, authorizationRequest };
      url = next;
      init = {};
      continue;
    }
    const html = await response.text();
    if (!onProvider || !/<form method="post"/.test(html)) {
      throw new Error(`sign-in stopped at ${url.toString()} (${response.status}): ${html.slice(0, 300)}`);
    }
    const problem = /<div class="error"[^>]*>.*?<p>(.*?)<\/p>/s.exec(html)?.[1];
    if (problem) throw new Error(`the provider refused the sign-in: ${problem}`);
    const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((match) => match[1]!);
    const cancel = 'cancel' in credentials;
    const action = actions.find((candidate) => candidate.endsWith(cancel ? '/cancel' : '/login'));
    if (!action) throw new Error('the sign-in page has no form to send');
    url = new URL(action.replace(/&amp;/g, '&'), url);
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: cancel ? '' : new URLSearchParams(credentials).toString(),
    };
  }
  throw new Error('too many redirects');
}
