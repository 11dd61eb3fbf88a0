/**
 * losstopo against the PyTorch peer, same model and machine, in one run: the two alternate, round
 * by round, so load from elsewhere hits both alike; each engine's best round counts, and the peer
 * is measured in both memory formats (its best is the bar). Prints a table and the ratios; with
 * --json, one document. Needs Debian's PyTorch: apt-get install -y python3-torch.
 *   npx tsx bench/compare.ts [--models resnet20,resnet56] [--rounds 3] [--iters 20] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : def; };
const models = opt('models', 'resnet20,resnet56').split(',');
const rounds = Number(opt('rounds', '3'));
const iters = opt('iters', '20');
const batch = opt('batch', '128');
const threads = opt('threads', '2');
const shortcut = opt('shortcut', 'projection');
const python = process.env.PYTHON ?? '/usr/bin/python3';
const root = fileURLToPath(new URL('..', import.meta.url));

if (!existsSync(python) || spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
  console.error(`bench: PyTorch is not importable by ${python}; install it with: apt-get install -y python3-torch`);
  process.exit(2);
}

interface Doc { trainImagesPerSec: number; inferImagesPerSec: number }
function run(cmd: string, a: string[]): Doc {
  const r = spawnSync(cmd, a, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Doc;
}

const common = ['--batch', batch, '--threads', threads, '--iters', iters, '--shortcut', shortcut];
const rows: Record<string, unknown>[] = [];
for (const model of models) {
  const best = { ours: { train: 0, infer: 0 }, peerCL: { train: 0, infer: 0 }, peerNCHW: { train: 0, infer: 0 } };
  for (let r = 0; r < rounds; r++) {
    const o = run(process.execPath, [`${root}/bin/losstopo`, 'bench', '--model', model, ...common, '--json']);
    const pc = run(python, ['bench/pytorch_peer.py', '--model', model, ...common, '--memory-format', 'channels_last']);
    const pn = run(python, ['bench/pytorch_peer.py', '--model', model, ...common, '--memory-format', 'contiguous']);
    for (const [k, d] of [['ours', o], ['peerCL', pc], ['peerNCHW', pn]] as const) {
      best[k].train = Math.max(best[k].train, d.trainImagesPerSec);
      best[k].infer = Math.max(best[k].infer, d.inferImagesPerSec);
    }
    console.error(`bench ${model} round ${r + 1}/${rounds}: losstopo ${o.trainImagesPerSec}/${o.inferImagesPerSec}, pytorch CL ${pc.trainImagesPerSec}/${pc.inferImagesPerSec}, NCHW ${pn.trainImagesPerSec}/${pn.inferImagesPerSec} (train/infer img/s)`);
  }
  const peerTrain = Math.max(best.peerCL.train, best.peerNCHW.train), peerInfer = Math.max(best.peerCL.infer, best.peerNCHW.infer);
  rows.push({
    model, batch: Number(batch), threads: Number(threads), shortcut,
    losstopoTrain: best.ours.train, losstopoInfer: best.ours.infer,
    pytorchTrainChannelsLast: best.peerCL.train, pytorchTrainNCHW: best.peerNCHW.train,
    pytorchInferChannelsLast: best.peerCL.infer, pytorchInferNCHW: best.peerNCHW.infer,
    trainRatio: Math.round((best.ours.train / peerTrain) * 100) / 100,
    inferRatio: Math.round((best.ours.infer / peerInfer) * 100) / 100,
    // ResNet-20 training costs ~245 MFLOP an image; ~540 GFLOP/s peak on 2 AVX-512 cores.
    ...(model === 'resnet20' ? { fractionOfPeakTrain: Math.round((best.ours.train / 2200) * 100) / 100 } : {}),
  });
}
if (args.includes('--json')) console.log(JSON.stringify({ rounds, iters: Number(iters), results: rows }));
else {
  console.log('| model | losstopo train | PyTorch train (CL / NCHW) | ratio | losstopo infer | PyTorch infer (CL / NCHW) | ratio |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.model} | ${r.losstopoTrain} | ${r.pytorchTrainChannelsLast} / ${r.pytorchTrainNCHW} | ${r.trainRatio}x | ${r.losstopoInfer} | ${r.pytorchInferChannelsLast} / ${r.pytorchInferNCHW} | ${r.inferRatio}x |`);
}
