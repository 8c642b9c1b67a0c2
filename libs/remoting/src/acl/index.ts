export * from './signature.js';
export * from './access-validator.js';
export * from './remote-address-pattern.js';
