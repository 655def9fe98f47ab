/** Kept in step with package.json by a unit test; a constant avoids locating package.json at run time. */
export const VERSION = '0.1.0';
export const PRODUCT = 'cortex-gateway';
