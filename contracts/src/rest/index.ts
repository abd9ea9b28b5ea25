// The triage REST API's request and response bodies: the server validates with these schemas and
// the pages import their types. One file per route group.
export * from './common';
export * from './consultations';
export * from './write-backs';
export * from './notifications';
export * from './navigation';
export * from './forms';
export * from './attachments';
export * from './auth';
export * from './messages';
export * from './practice-admin';
export * from './pauses';
export * from './hours';
export * from './submissions';
export * from './nhs-login';
export * from './identity';
export * from './readiness';
export * from './calls';
export * from './call-data';
export * from './cis2';
