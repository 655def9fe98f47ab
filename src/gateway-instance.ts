// The lifecycle moved to src/host.ts; this path stays until the CLI and the desktop app import that.
export * from './host.js';
