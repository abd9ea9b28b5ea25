export * from './app';
export * from './config';
export * from './document';
export * from './testing';
