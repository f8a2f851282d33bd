"""The same DCGAN step in PyTorch, for `ganstudio bench --external`: the figure to beat on a CPU.

Architecture, losses and optimiser mirror packages/models (dcgan.ts, gan.ts): z(100) -> linear
4x4x8ngf -> BN/ReLU -> 2x [convT 4x4 s2, BN, ReLU] -> convT to RGB, tanh; D: 3x [conv 4x4 s2,
(BN), LeakyReLU 0.2] -> linear logit; non-saturating BCE on logits; Adam(2e-4, 0.5, 0.999).
One step = D update on a real and a detached fake batch, then a G update, as in trainStep.

  /usr/bin/python3 apps/trainer/bench/pytorch-dcgan.py [--threads 2] [--batch 64] [--windows 5]
Prints "images/s: N" per timed window, then "threads: T" and "peak_rss_mb: M".
"""
import argparse
import resource
import time

import torch
from torch import nn


def generator(nz: int, ngf: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(nz, 4 * 4 * ngf * 8, bias=False),
        nn.Unflatten(1, (ngf * 8, 4, 4)),
        nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, 3, 4, 2, 1), nn.Tanh(),
    )


def discriminator(ndf: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
        nn.Flatten(), nn.Linear(4 * 4 * ndf * 4, 1),
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--steps-per-window", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    G, D = generator(100, a.ngf), discriminator(a.ndf)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.tanh(torch.randn(a.batch, 3, 32, 32))
    ones, zeros = torch.ones(a.batch, 1), torch.zeros(a.batch, 1)

    def step() -> None:
        z = torch.randn(a.batch, 100)
        fake = G(z)
        opt_d.zero_grad()
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = bce(D(fake), ones)
        g_loss.backward()
        opt_g.step()

    for _ in range(a.warmup):
        step()
    for _ in range(a.windows):
        t0 = time.perf_counter()
        for _ in range(a.steps_per_window):
            step()
        print(f"images/s: {a.steps_per_window * a.batch / (time.perf_counter() - t0):.2f}", flush=True)
    print(f"threads: {torch.get_num_threads()}")
    print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
