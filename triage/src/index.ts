export * from './app';
export * from './config';
export * from './db/migrate';
export * from './errors';
