export * from './errors.js';
export * from './command.js';
export * from './request-codes.js';
export * from './response-codes.js';
export * from './json-header.js';
export * from './rocketmq-header.js';
export * from './frame.js';
export * from './custom-header.js';
