export * from './config';
export * from './errors';
export * from './jobs';
export * from './call/index';
export * from './nhs-number';
export * from './outcomes';
export * from './staff-live';
export * from './fhir-auth';
