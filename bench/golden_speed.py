"""Golden model speed against the naive per-neuron loop, measured in one run.

Two networks, T=8, 2-bit spikes, batch 256 (defaults): the MLP 784-256-128-10
and a CNN of the MNIST-1D default's shape as exported (1x40 input; conv 32 of
1x5 pad 2; conv 32 of 1x6 stride 2 pad 2 and again, the folded sum pools; dense
320-128-10). The fast model runs the whole batch (best of ``--repeat``); the
naive loop runs the first ``--naive-samples`` samples. Both report inferences
per second, and the logits of the samples both ran are compared with ``==``
(the run fails if they differ).

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
from snnhw.ir.examples import random_conv_network, random_input, random_network

#: the MNIST-1D default CNN as export folds it (snnhw info on its IR file)
CONV_LAYERS = [(32, (1, 5), (1, 1), (0, 2)), (32, (1, 6), (1, 2), (0, 2)),
               (32, (1, 6), (1, 2), (0, 2))]


def measure(net, x, args) -> dict:
    """Golden (best of ``args.repeat``), int64 path and naive loop on one network."""
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = golden.run(net, x)
        best = min(best, time.perf_counter() - t0)
    fast_ips = len(x) / best
    t0 = time.perf_counter()
    ref = golden.run(net, x, path="int64")
    int64_ips = len(x) / (time.perf_counter() - t0)
    paths_agree = np.array_equal(ref.logits, result.logits)
    n = min(args.naive_samples, len(x))
    t0 = time.perf_counter()
    naive_logits, _ = naive.run_batch(net, x[:n].tolist())
    naive_ips = n / (time.perf_counter() - t0)
    return {
        "charge_paths": result.paths,
        "golden_inferences_per_s": round(fast_ips, 1),
        "golden_batch_seconds": round(best, 5),
        "int64_path_inferences_per_s": round(int64_ips, 1),
        "naive_samples": n,
        "naive_inferences_per_s": round(naive_ips, 3),
        "speedup": round(fast_ips / naive_ips, 1),
        "exact": result.logits[:n].tolist() == naive_logits and paths_agree,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="784,256,128,10", help="layer sizes, comma separated")
    ap.add_argument("--timesteps", type=int, default=8)
    ap.add_argument("--spike-bits", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--naive-samples", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="fast-model runs; the best counts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-conv", dest="conv", action="store_false",
                    help="the MLP only (no CNN)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    net = random_network(rng, sizes, in_bits=8, timesteps=args.timesteps,
                         spike_bits=args.spike_bits, w_bits=8, u_bits=16)
    x = random_input(rng, net, args.batch, density=0.5)
    report = {"network": sizes, "timesteps": args.timesteps, "spike_bits": args.spike_bits,
              "batch": args.batch, **measure(net, x, args)}
    if args.conv:
        cnet = random_conv_network(rng, (1, 1, 40), CONV_LAYERS, [128, 10], in_bits=5,
                                   timesteps=args.timesteps, spike_bits=args.spike_bits,
                                   w_bits=8, u_bits=16)
        cx = random_input(rng, cnet, args.batch, density=0.5)
        report["conv"] = {"network": [ly.scalars() for ly in cnet.layers],
                          **measure(cnet, cx, args)}
    exact = report["exact"] and report.get("conv", {"exact": True})["exact"]
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        print(f"T={args.timesteps}, {args.spike_bits}-bit spikes, batch {args.batch}")
        rows = [("MLP " + "-".join(map(str, sizes)), report)]
        if args.conv:
            rows.append(("CNN 1x40 c32k5p2,sp2,c32k3p1,sp2,c32k3p1,sp2,d128,d10",
                         report["conv"]))
        for name, r in rows:
            print(f"{name}")
            print(f"  golden model : {r['golden_inferences_per_s']:10.1f} inferences/s  "
                  f"(paths {r['charge_paths']})")
            print(f"  int64 path   : {r['int64_path_inferences_per_s']:10.1f} inferences/s")
            print(f"  naive loop   : {r['naive_inferences_per_s']:10.3f} inferences/s  "
                  f"({r['naive_samples']} samples)")
            print(f"  speedup      : {r['speedup']:10.1f}x   exact: {r['exact']}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
