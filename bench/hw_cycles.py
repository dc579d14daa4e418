"""Cycles per inference and lane utilisation of the generated hardware.

Runs samples back to back through the gateware in the Amaranth simulator (no
stalls) for each ``lanes`` value and prints, per network:

* cycles per inference (total cycles / samples, measured);
* ideal = sum over layers and steps of ``E * ceil(n_out / lanes)`` (every
  cycle of every layer does synapse work);
* utilisation = ideal / measured, as defined in the issue. Layers work
  concurrently, so this can exceed 1;
* bottleneck utilisation = the busiest layer's ideal / measured: how close
  the slowest layer runs to one group per cycle (at most 1);
* whether every logit equals the golden model's.

Networks: the digits network (``--net``, default ``out/digits.snn`` when it
exists, else a 64-128-10 network with the same shapes and seeded random
weights) on digits test samples, and a 784-128-10 network (8-bit weights,
seeded random) on sparse random 8-bit inputs (19 % non-zero, like MNIST).

    python bench/hw_cycles.py              # table
    python bench/hw_cycles.py --json       # one JSON object
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from snnhw import golden, ir
from snnhw.data import load_digits_split
from snnhw.gateware import SNNCore, cycles
from snnhw.gateware.plan import plan_core
from snnhw.gateware.sim import run_network
from snnhw.ir.examples import random_input, random_network


def digits_case(path: str | None, samples: int):
    d = load_digits_split()
    if path and Path(path).exists():
        net = ir.load(path)
        source = path
    else:
        net = random_network(np.random.default_rng(1), [64, 128, 10], in_bits=5, timesteps=4,
                             spike_bits=2, name="digits-shaped")
        source = "seeded random weights, digits shapes"
    x = np.repeat(d.x_test[:samples, None], net.timesteps, axis=1)
    return net, x, source


def mnist_case(samples: int):
    rng = np.random.default_rng(7)
    net = random_network(rng, [784, 128, 10], in_bits=8, timesteps=4, spike_bits=2, w_bits=8,
                         u_bits=16, name="784-128-10")
    return net, random_input(rng, net, samples, density=0.19), "seeded random weights and inputs"


def measure(net, x, lanes_list, bar):
    g = golden.run(net, x)
    ev = cycles.events_per_step(net, x)
    rows = []
    for lanes in lanes_list:
        t0 = time.perf_counter()
        r = run_network(SNNCore(net, lanes=lanes), x)
        wall = time.perf_counter() - t0
        per_layer = [int(ev[:, lp.index].sum()) * lp.groups
                     for lp in plan_core(net, lanes).layers]
        ideal = sum(per_layer)
        rows.append({
            "lanes": lanes,
            "cycles_per_inference": r.cycles / len(x),
            "ideal_per_inference": ideal / len(x),
            "utilisation": ideal / r.cycles,
            "bottleneck_utilisation": max(per_layer) / r.cycles,
            "synapse_cycles_equal_ideal": sum(r.synapse_cycles) == ideal,
            "exact": r.logits == g.logits.tolist(),
            "sim_seconds": round(wall, 2),
        })
        bar.update(1)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", default="out/digits.snn", help="digits IR file (%(default)s)")
    ap.add_argument("--lanes", default="1,2,4,8,16", help="(%(default)s)")
    ap.add_argument("--samples", type=int, default=4, help="digits samples (%(default)s)")
    ap.add_argument("--mnist-samples", type=int, default=2, help="(%(default)s)")
    ap.add_argument("--skip-mnist", action="store_true", help="only the digits network")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from tqdm.auto import tqdm

    lanes_list = [int(v) for v in args.lanes.split(",")]
    cases = [("digits", *digits_case(args.net, args.samples))]
    if not args.skip_mnist:
        cases.append(("784-128-10", *mnist_case(args.mnist_samples)))
    report = {"networks": []}
    with tqdm(total=len(cases) * len(lanes_list), desc="simulating", unit="run",
              disable=args.json) as bar:
        for name, net, x, source in cases:
            report["networks"].append({
                "name": name, "sizes": [net.n_in] + [ly.n_out for ly in net.layers],
                "source": source, "samples": len(x), "timesteps": net.timesteps,
                "rows": measure(net, x, lanes_list, bar)})
    ok = all(r["exact"] and r["synapse_cycles_equal_ideal"]
             for n in report["networks"] for r in n["rows"])
    report["all_exact"] = ok
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0 if ok else 1
    for n in report["networks"]:
        print(f"\n{n['name']} {'-'.join(map(str, n['sizes']))}, T={n['timesteps']}, "
              f"{n['samples']} samples ({n['source']})")
        print(f"{'lanes':>5} {'cycles/inf':>11} {'ideal/inf':>10} {'util':>6} "
              f"{'bottleneck':>10} {'exact':>6}")
        for r in n["rows"]:
            print(f"{r['lanes']:>5} {r['cycles_per_inference']:>11.1f} "
                  f"{r['ideal_per_inference']:>10.1f} {r['utilisation']:>6.3f} "
                  f"{r['bottleneck_utilisation']:>10.3f} {r['exact']!s:>6}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
