/**
 * The CommonJS function wrapper a bundle is run in when it is loaded from the binary's assets
 * (src/boot.ts). The build compiles the same text to make the code caches, and V8 accepts a cache
 * only for the exact source it was made from (a unit test keeps scripts/build.mjs equal to this).
 */
export function wrapCommonJs(code: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}
