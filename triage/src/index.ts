export * from './app';
export * from './config';
export * from './db/migrate';
export * from './errors';
export * from './practices';
export * from './auth/passwords';
export * from './notifications/settings';
