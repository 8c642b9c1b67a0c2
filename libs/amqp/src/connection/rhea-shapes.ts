/** Kept for link/*.ts until they import from ../rhea/index.js (everything rhea lives there). */
export type * from '../rhea/shapes.js';
