export * from './codecs';
export * from './worker-pool';
