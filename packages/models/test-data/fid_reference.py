#!/usr/bin/env python3
"""Float64 reference FIDs for packages/models/src/fid.test.ts, computed independently of the
TypeScript code with numpy/scipy exactly as pytorch-fid does (scipy.linalg.sqrtm of C1·C2, a 1e-6
offset only when that is not finite, real part of the trace).

The statistics are those of Gaussian samples drawn from a PRNG simple enough to repeat bit for bit
in TypeScript (mulberry32 + Box–Muller), so the fixture stores only the case descriptions and the
results, not megabytes of matrices.

Run: /usr/bin/python3 packages/models/test-data/fid_reference.py > packages/models/test-data/fid-reference.json
(Debian: apt-get install python3-scipy)
"""
import json
import math

import numpy as np
import scipy
from scipy import linalg


def mulberry32(seed):
    state = seed & 0xFFFFFFFF

    def next_u32():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) & 0xFFFFFFFF

    return next_u32


def gaussian_samples(seed, n, d, scale_wave, mean_shift):
    """n×d samples: column j has a mean shift and a scale (1 + scale_wave·sin j), and each row
    mixes in its neighbour column so the covariance is not diagonal."""
    rng = mulberry32(seed)
    out = np.empty((n, d))
    for i in range(n):
        for j in range(d):
            u1 = (rng() + 1) / 4294967297.0
            u2 = rng() / 4294967296.0
            out[i, j] = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    mixed = out + 0.5 * np.roll(out, 1, axis=1)
    scales = 1.0 + scale_wave * np.sin(np.arange(d))
    return mixed * scales + mean_shift * np.cos(np.arange(d) * 0.37)


def fid(mu1, s1, mu2, s2, eps=1e-6):
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


CASES = [
    # name, d, n1, n2
    ("d64", 64, 256, 200),
    ("d512", 512, 1100, 1024),
    # fewer samples than dimensions: both covariances are singular (rank n - 1)
    ("d64-singular", 64, 40, 48),
]

results = []
for name, d, n1, n2 in CASES:
    a = gaussian_samples(1000 + d, n1, d, 0.0, 0.0)
    b = gaussian_samples(2000 + d, n2, d, 0.5, 0.3)
    mu1, s1 = a.mean(axis=0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(axis=0), np.cov(b, rowvar=False)
    results.append(
        {
            "name": name,
            "dim": d,
            "a": {"seed": 1000 + d, "n": n1, "scale_wave": 0.0, "mean_shift": 0.0},
            "b": {"seed": 2000 + d, "n": n2, "scale_wave": 0.5, "mean_shift": 0.3},
            # checks that TypeScript rebuilt the same samples before comparing FIDs
            "trace_a": float(np.trace(s1)),
            "trace_b": float(np.trace(s2)),
            "fid": fid(mu1, s1, mu2, s2),
            "fid_self": fid(mu1, s1, mu1, s1),
        }
    )

print(
    json.dumps(
        {"generator": "fid_reference.py", "numpy": np.__version__, "scipy": scipy.__version__, "cases": results},
        indent=2,
    )
)
