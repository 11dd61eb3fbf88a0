/**
 * The dashboard: `startServer({root, port, host})` serves a read-only page over a runs folder with
 * live curves (server.ts); runs.ts finds and summarises runs; paths.ts keeps requests inside the root.
 */
export * from './server.js';
export * from './runs.js';
export * from './paths.js';
