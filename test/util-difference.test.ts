import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstDifference } from '../src/util/difference.js';

test('firstDifference names the deepest differing setting, compares values as JSON, and is undefined when equal', () => {
  const cfg = { model: 'resnet20', schedule: { policy: 'range', maxLr: 3 }, stepvalue: [1, 2], divergeLoss: Infinity };
  // run.json stores Infinity as null and drops undefined: both read back as the same configuration.
  assert.equal(firstDifference(JSON.parse(JSON.stringify(cfg)), { ...cfg, extra: undefined }), undefined);
  assert.equal(firstDifference(cfg, { ...cfg, schedule: { policy: 'range', maxLr: 2 } }), 'schedule.maxLr');
  assert.equal(firstDifference(cfg, { ...cfg, stepvalue: [1, 3] }), 'stepvalue', 'arrays compare whole');
  assert.equal(firstDifference({ a: { b: 1 } }, { a: { b: 1 }, c: 0 }), 'c', 'a key on one side only');
  assert.equal(firstDifference({ a: 1 }, { a: { b: 1 } }), 'a');
  assert.equal(firstDifference(cfg, { ...cfg, schedule: { policy: 'range', maxLr: 2 } }, 1), 'schedule', 'depth limits the path');
});
