export * from './events';
export * from './tokens';
