export * from './events';
export * from './tokens';
export * from './ice';
