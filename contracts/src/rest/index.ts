// The triage REST API's request and response bodies: the server validates with these schemas and
// the pages import their types. One file per route group.
export * from './common';
