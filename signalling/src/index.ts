export * from './app';
export * from './auth/tokens';
export * from './calls/call';
export * from './config';
