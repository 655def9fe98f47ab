/**
 * The console's sign-in, as both sides of it spell it. The session secret lives in the browser's
 * `localStorage` under `CONSOLE_SESSION_STORAGE_KEY`, which is per exact origin (scheme, host and
 * port), and travels only in the `CONSOLE_SESSION_HEADER` request header: never in a cookie (cookies
 * ignore the port, so any other local web server would receive it), a URL or a log line.
 *
 * Here rather than in the contract: the consent page's script (oauth) and the routes that check the
 * header (http) are below the console API, and a lower layer does not import the contract.
 */
export const CONSOLE_SESSION_HEADER = 'X-Cortex-Session';
export const CONSOLE_SESSION_STORAGE_KEY = 'cortex.console.session';
