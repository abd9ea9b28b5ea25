export * from './codecs';
export * from './room';
export * from './worker-pool';
