export * from './event-catalog.js';
export * from './envelope.js';
export * from './signing.js';
export * from './retry-delay.js';
export * from './config.js';
export * from './ids.js';
export * from './private-address.js';
export * from './partitions.js';
