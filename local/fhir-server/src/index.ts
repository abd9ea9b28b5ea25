export * from './app';
export * from './config';
export { LocalFhirRepository } from './repository';
