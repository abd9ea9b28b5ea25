/*
 * NHS.UK frontend only sets up its components in browsers that run modules (its template's snippet).
 * A file rather than an inline <script>, so the pages' Content-Security-Policy can refuse inline
 * script; classic and synchronous, so the classes are on <body> before any module (initAll) runs.
 */
document.body.className +=
  ' js-enabled' + ('noModule' in document.createElement('script') ? ' nhsuk-frontend-supported' : '');
