/**
 * The first setting in which two configurations differ, as a dotted path at most `depth` keys deep
 * (`schedule`, `baseline.maxIter`), or undefined when they agree. Values compare as JSON, so a
 * configuration read back from run.json equals the one it was written from.
 */
export function firstDifference(a: unknown, b: unknown, depth = Infinity, path = ''): string | undefined {
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (depth > 0 && plain(a) && plain(b)) {
    for (const k of Object.keys({ ...a, ...b })) {
      const d = firstDifference(a[k], b[k], depth - 1, path ? `${path}.${k}` : k);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : path;
}
