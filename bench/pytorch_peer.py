#!/usr/bin/env python3
"""PyTorch peer of `losstopo bench`: the identical CIFAR ResNet, the same train step (forward,
cross-entropy, backward, SGD momentum update) and eval-mode inference, printing the same JSON
document. Run with Debian's PyTorch: /usr/bin/python3 bench/pytorch_peer.py --model resnet20 ...
"""
import argparse, json, re, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def stages_for_depth(depth):
    blocks = (depth - 2) // 2
    base = blocks // 3
    st = [base, base, base]
    for i in range(blocks - 3 * base):
        st[2 - i] += 1
    return st


class AvgPoolShortcut(nn.Module):
    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        p = F.avg_pool2d(x, 3, 2, 0, ceil_mode=True)
        z = torch.zeros(p.shape[0], self.extra, p.shape[2], p.shape[3], dtype=p.dtype)
        return torch.cat([p, z], 1)


class SubsampleShortcut(nn.Module):
    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        s = x[:, :, ::2, ::2]
        return F.pad(s, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride == 1 and cin == cout:
            self.shortcut = None
        elif shortcut == 'projection':
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        elif shortcut == 'avgpool':
            self.shortcut = AvgPoolShortcut(cout - cin)
        else:
            self.shortcut = SubsampleShortcut(cout - cin)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        out += x if self.shortcut is None else self.shortcut(x)
        return F.relu(out, inplace=True)


class ResNet(nn.Module):
    def __init__(self, stages, shortcut, classes=10, width=16):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        cin = width
        for s, n in enumerate(stages):
            cout = width * 2 ** s
            blocks = [BasicBlock(cin if b == 0 else cout, cout, 2 if (b == 0 and s > 0) else 1, shortcut) for b in range(n)]
            setattr(self, f'layer{s + 1}', nn.Sequential(*blocks))
            cin = cout
        self.nstages = len(stages)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)), inplace=True)
        for s in range(self.nstages):
            h = getattr(self, f'layer{s + 1}')(h)
        return self.fc(h.mean((2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='resnet20')
    ap.add_argument('--shortcut', default='projection')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--memory-format', default='channels_last', choices=['channels_last', 'contiguous'])
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    depth = int(re.match(r'resnet(\d+)$', a.model).group(1))
    fmt = torch.channels_last if a.memory_format == 'channels_last' else torch.contiguous_format
    model = ResNet(stages_for_depth(depth), a.shortcut).to(memory_format=fmt)
    x = torch.randn(a.batch, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.arange(a.batch) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def train_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    def infer_step():
        with torch.no_grad():
            model(x)

    def timed(step):
        for _ in range(a.warmup):
            step()
        t0 = time.perf_counter()
        for _ in range(a.iters):
            step()
        return a.iters * a.batch / (time.perf_counter() - t0)

    model.train()
    train = timed(train_step)
    model.eval()
    infer = timed(infer_step)
    doc = {'model': a.model, 'batch': a.batch, 'threads': torch.get_num_threads(),
           'trainImagesPerSec': round(train, 1), 'inferImagesPerSec': round(infer, 1),
           'shortcut': a.shortcut, 'memoryFormat': a.memory_format, 'engine': f'pytorch {torch.__version__}'}
    print(json.dumps(doc))


if __name__ == '__main__':
    sys.exit(main())
