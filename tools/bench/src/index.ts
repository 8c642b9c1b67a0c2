/** Building blocks for benchmark suites (the CLI is main.ts). */
export * from './stats.js';
export * from './report.js';
export * from './ceilings.js';
export * from './runner.js';
export * from './suite.js';
export * from './tmp.js';
export { suites, suiteNames, type SuiteEntry } from './suites/index.js';
