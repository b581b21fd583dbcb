/** The plugin's version: stamped into the bundle at build time (scripts/build.mjs, vitest config) from package.json. */
declare const __KSTS_VERSION__: string | undefined;
export const VERSION: string = typeof __KSTS_VERSION__ === 'string' ? __KSTS_VERSION__ : '0.0.0-dev';
