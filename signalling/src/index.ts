export * from './app';
export * from './auth/tokens';
export * from './calls/call-registry';
export * from './calls/call-session';
export * from './config';
