/**
 * Reports: run-folder reader (read.ts), key numbers (summary.ts), figures as pure Vega-Lite specs
 * (figures.ts), Node rendering to SVG/PNG (render.ts) and the report folder (write.ts, html.ts).
 */
export * from './records.js';
export * from './read.js';
export * from './label.js';
export * from './summary.js';
export * from './figures.js';
export * from './render.js';
export * from './html.js';
export * from './write.js';
