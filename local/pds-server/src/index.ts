export * from './app';
export * from './auth';
export * from './config';
export * from './seed';
export * from './testing';
