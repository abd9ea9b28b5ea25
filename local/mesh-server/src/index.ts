export * from './app';
export * from './auth';
export * from './config';
export * from './store';
export * from './testing';
