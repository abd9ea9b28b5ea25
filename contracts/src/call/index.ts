export * from './events';
export * from './tokens';
export * from './ice';
export * from './quality';
export * from './placement';
