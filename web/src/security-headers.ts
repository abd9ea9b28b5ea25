/**
 * The security headers of the built pages (src/static-app.ts serves them; vite's development server,
 * which injects styles, does not). A strict Content-Security-Policy: scripts and styles from our own
 * origin only, no inline script or style, no eval; the form page may be framed by the practice's own
 * websites (and the widget demo on our own origin), every other page by nobody.
 * See: https://www.w3.org/TR/CSP3/ and https://w3c.github.io/webappsec-permissions-policy/
 */

/** NHS.UK frontend's stylesheet loads the Frutiger web fonts from here (pages fall back to Arial). */
export const nhsFontOrigin = 'https://assets.nhs.uk';

export interface PagePolicyOptions {
  /** Who may frame the page: origins; none (`'none'`) when empty. */
  frameAncestors: readonly string[];
  /** Origins the page may also send requests to, e.g. the storage presigned uploads go to. */
  connectSources?: readonly string[];
  /** The service is reached over https: ask the browser to upgrade any http subresource. */
  https?: boolean;
}

/** The Content-Security-Policy of an HTML page. */
export function contentSecurityPolicy({
  frameAncestors,
  connectSources = [],
  https = false,
}: PagePolicyOptions): string {
  const directives = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // NHS.UK frontend's icons are data: URLs in its stylesheet
    "img-src 'self' data:",
    `font-src 'self' ${nhsFontOrigin}`,
    // 'self' covers the page's own ws:/wss: (socket.io) too
    ['connect-src', "'self'", ...connectSources].join(' '),
    "media-src 'self' blob:",
    // the widget demo frames the form from our own origin
    "frame-src 'self'",
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
  ];
  if (https) directives.push('upgrade-insecure-requests');
  return directives.join('; ');
}

/** What a file that is not a page may do if opened as a document (an SVG, say): nothing. */
export const resourceContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Powerful features no page uses, switched off for every page and anything it frames. */
const offEverywhere = ['geolocation', 'payment', 'usb', 'serial', 'bluetooth', 'hid', 'midi'];

/** Pages that use the camera and microphone: the call pages, for our own origin only. */
const callPages = new Set(['call.html', 'clinician.html']);

/** The page that may share a screen: the clinician's call page (a leaflet or an image shown to the patient). */
const screenSharingPages = new Set(['clinician.html']);

/** The Permissions-Policy of a page (its file name in the build, e.g. `call.html`). */
export function permissionsPolicy(page: string): string {
  const media = callPages.has(page) ? '(self)' : '()';
  const screen = screenSharingPages.has(page) ? '(self)' : '()';
  return [
    `camera=${media}`,
    `microphone=${media}`,
    `display-capture=${screen}`,
    ...offEverywhere.map((feature) => `${feature}=()`),
  ].join(', ');
}

/** Headers every response carries, page or not. */
export function commonSecurityHeaders({ https }: { https: boolean }): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    ...(https ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/**
 * A practice website origin as the static server accepts it from triage: exactly a browser's origin,
 * https (plain http only for this machine, as the development practice's test pages need).
 */
export function isWebsiteOrigin(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.origin !== value) return false;
  return (
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
  );
}
