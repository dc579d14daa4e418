"""Golden model speed against the naive per-neuron loop, measured in one run.

Network 784-256-128-10, T=8, 2-bit spikes, batch 256 (defaults). The fast
model runs the whole batch (best of ``--repeat``); the naive loop runs the
first ``--naive-samples`` samples. Both report inferences per second, and the
logits of the samples both ran are compared with ``==`` (the run fails if
they differ).

    python bench/golden_speed.py            # table
    python bench/golden_speed.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from snnhw import golden
from snnhw.golden import naive
from snnhw.ir.examples import random_input, random_network


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="784,256,128,10", help="layer sizes, comma separated")
    ap.add_argument("--timesteps", type=int, default=8)
    ap.add_argument("--spike-bits", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--naive-samples", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="fast-model runs; the best counts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    net = random_network(rng, sizes, in_bits=8, timesteps=args.timesteps,
                         spike_bits=args.spike_bits, w_bits=8, u_bits=16)
    x = random_input(rng, net, args.batch, density=0.5)

    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = golden.run(net, x)
        best = min(best, time.perf_counter() - t0)
    fast_ips = args.batch / best

    t0 = time.perf_counter()
    ref = golden.run(net, x, path="int64")
    int64_ips = args.batch / (time.perf_counter() - t0)
    paths_agree = np.array_equal(ref.logits, result.logits)

    n = min(args.naive_samples, args.batch)
    t0 = time.perf_counter()
    naive_logits, _ = naive.run_batch(net, x[:n].tolist())
    naive_s = time.perf_counter() - t0
    naive_ips = n / naive_s
    exact = result.logits[:n].tolist() == naive_logits and paths_agree

    report = {
        "network": sizes,
        "timesteps": args.timesteps,
        "spike_bits": args.spike_bits,
        "batch": args.batch,
        "charge_paths": result.paths,
        "golden_inferences_per_s": round(fast_ips, 1),
        "golden_batch_seconds": round(best, 5),
        "int64_path_inferences_per_s": round(int64_ips, 1),
        "naive_samples": n,
        "naive_inferences_per_s": round(naive_ips, 3),
        "speedup": round(fast_ips / naive_ips, 1),
        "exact": exact,
    }
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        print(f"network {'-'.join(map(str, sizes))}, T={args.timesteps}, "
              f"{args.spike_bits}-bit spikes, batch {args.batch}")
        print(f"golden model : {fast_ips:10.1f} inferences/s  (paths {result.paths})")
        print(f"int64 path   : {int64_ips:10.1f} inferences/s  (no BLAS, same logits: "
              f"{paths_agree})")
        print(f"naive loop   : {naive_ips:10.3f} inferences/s  ({n} samples)")
        print(f"speedup      : {fast_ips / naive_ips:10.1f}x   exact: {exact}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
