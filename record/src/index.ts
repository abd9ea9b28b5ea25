export * from './app';
export * from './config';
export * from './queue';
export * from './worker';
export * from './fhir/bundle';
export * from './fhir/client';
export * from './fhir/identifiers';
export * from './fhir/validate';
