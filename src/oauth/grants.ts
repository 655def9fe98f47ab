export * from './owner-grants.js';
