export * from './levels.js';
export * from './tty-format.js';
export * from './logger.js';
