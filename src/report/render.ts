/**
 * Rendering in Node, no browser and no canvas: Vega-Lite spec -> Vega spec (vega-lite compile) ->
 * a headless Vega View (renderer 'none') -> SVG text; SVG -> PNG with resvg.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { LosstopoError } from '../errors.js';
import type { VlSpec } from './figures.js';

/** SVG text of a Vega-Lite spec. */
export async function renderSvg(spec: VlSpec): Promise<string> {
  let compiled;
  try {
    compiled = compile(spec as unknown as TopLevelSpec).spec;
  } catch (e) {
    throw new LosstopoError({ code: 'invalid_config', path: 'spec' }, `Vega-Lite could not compile the figure: ${(e as Error).message}`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Width and height (px) an SVG declares on its root element. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const w = Number(/\bwidth="([\d.]+)"/.exec(root)?.[1]);
  const h = Number(/\bheight="([\d.]+)"/.exec(root)?.[1]);
  if (!(w > 0 && h > 0)) throw new LosstopoError({ code: 'invalid_file', path: 'svg' }, 'the SVG declares no width and height');
  return { width: w, height: h };
}

export interface PngOptions {
  /** Output width in pixels; the height follows the SVG's aspect ratio. Default: 2x the SVG width. */
  width?: number;
}

/** PNG bytes of an SVG, `width` pixels wide. Text uses the system fonts (DejaVu Sans on Debian). */
export function renderPng(svg: string, o: PngOptions = {}): Buffer {
  const size = svgSize(svg);
  const width = Math.round(o.width ?? size.width * 2);
  if (!(width >= 1 && width <= 16384)) throw new LosstopoError({ code: 'invalid_option', path: 'width', received: String(o.width) }, 'expected a PNG width between 1 and 16384 pixels');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'width', value: width },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Width and height from a PNG's IHDR chunk (for checks). */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || !sig.every((b, i) => png[i] === b)) throw new LosstopoError({ code: 'invalid_file' }, 'not a PNG (bad signature)');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (String.fromCharCode(...png.subarray(12, 16)) !== 'IHDR') throw new LosstopoError({ code: 'invalid_file' }, 'not a PNG (no IHDR first)');
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}
