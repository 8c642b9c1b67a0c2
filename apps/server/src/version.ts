/** Apogee's version, as the admin API and logs report it (kept equal to package.json by version.spec.ts). */
export const APOGEE_VERSION = '0.1.0';
