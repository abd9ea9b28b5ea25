export * from './adaptation';
export * from './codecs';
export * from './errors';
export * from './room';
export * from './worker-pool';
