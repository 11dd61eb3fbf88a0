/**
 * Path safety for the dashboard: a request may name only files under the runs folder.
 *
 * - URL paths are taken raw (still percent-encoded) and decoded one segment at a time, so an
 *   encoded `%2e%2e` or `%2f` cannot slip past the checks; `.`/`..` segments, empty segments,
 *   backslashes, NUL and encoded slashes are refused outright (not normalised).
 * - The joined path must lie under the root, and so must its real path: a symlink that leads out of
 *   the root is refused like `..`.
 * Every refusal is `null`, which the server answers with 404 (it does not say why).
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';

/** Decoded segments of a raw URL path (without its leading slash), or null when unsafe. */
export function decodeSegments(rawPath: string): string[] | null {
  if (rawPath === '') return [];
  const parts = rawPath.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '') {
      if (i === parts.length - 1) break; // trailing slash: a folder
      return null;
    }
    let d: string;
    try { d = decodeURIComponent(p); } catch { return null; }
    out.push(d);
  }
  return checkSegments(out) ? out : null;
}

/** True when every segment is a plain name (no separators, no dot segments, no NUL). */
export function checkSegments(segs: readonly string[]): boolean {
  return segs.every((d) => d !== '' && d !== '.' && d !== '..' && !/[/\\\0]/.test(d) && !isAbsolute(d) && !/^[a-zA-Z]:/.test(d));
}

/** A run id (its path relative to the root, `/`-separated, already decoded) as segments, or null. */
export function idSegments(id: string): string[] | null {
  if (id === '' || id.startsWith('/') || id.endsWith('/')) return null;
  const segs = id.split('/');
  return checkSegments(segs) ? segs : null;
}

const within = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * The real path of `segs` under `root` (which must itself be a real path), or null when it does
 * not exist or lies outside the root (through a symlink).
 */
export async function resolveUnder(root: string, segs: readonly string[]): Promise<string | null> {
  if (!checkSegments(segs)) return null;
  const joined = join(root, ...segs);
  if (!within(root, joined)) return null;
  let real: string;
  try { real = await realpath(joined); } catch { return null; }
  return within(root, real) ? real : null;
}
