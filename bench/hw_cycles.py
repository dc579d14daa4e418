"""Cycles per inference and lane utilisation of the generated hardware.

Runs samples back to back through the gateware in the Amaranth simulator (no
stalls) for each ``lanes`` value and prints, per network:

* cycles per inference (total cycles / samples, measured);
* ideal = sum over layers and steps of the synapse array's walk cycles
  (``E * ceil(n_out / lanes)`` for a dense layer; for a conv layer the groups
  each event's window reaches, :func:`snnhw.gateware.cycles.walk_cycles`):
  every cycle of every layer does synapse work;
* utilisation = ideal / measured, as defined in the issue. Layers work
  concurrently, so this can exceed 1;
* bottleneck utilisation = the busiest layer's ideal / measured: how close
  the slowest layer runs to one group per cycle (at most 1);
* lanes busy, per layer: the fraction of the layer's working cycles in which
  its synapse lanes add, times the share of lanes that hold a real neuron
  (``n_out / (G * lanes)``; a conv layer's ``C_out / (Gc * lanes)``). Working
  cycles are all cycles but those the layer waits for input with its array
  idle (``LIFLayer.starved``) or waits for room in a full spike FIFO because
  the next layer is slower (``LIFLayer.blocked``); ``lanes_busy_all`` divides
  by every cycle instead;
* whether every logit equals the golden model's.

Networks: the digits network (``--net``, default ``out/digits.snn`` when it
exists, else a 64-128-10 network with the same shapes and seeded random
weights) on digits test samples, a 784-128-10 network (8-bit weights,
seeded random) on sparse random 8-bit inputs (19 % non-zero, like MNIST),
and the spiking CNNs of MNIST-1D and digits (``--cnn-mnist1d``,
``--cnn-digits``: ``snnhw train --arch cnn`` then ``export``; seeded random
weights of the default architectures' shapes when the files are missing) on
their test samples.

    python bench/hw_cycles.py              # table
    python bench/hw_cycles.py --json       # one JSON object
    python bench/hw_cycles.py --only mnist1d-cnn --lanes 8
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
from snnhw.ir.examples import cnn_shaped, random_input, random_network


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


def cnn_case(data: str, path: str, samples: int):
    """A trained spiking CNN on its test split, or seeded random weights of the data set's
    default CNN's shapes."""
    from snnhw.data import load_data

    d = load_data(data)
    if path and Path(path).exists():
        net, source = ir.load(path), path
    else:
        net = cnn_shaped(f"{data}-cnn", d.in_bits)
        source = "seeded random weights, default CNN shapes"
    x = d.x_test[:samples]
    if x.ndim == 2:
        x = np.repeat(x[:, None], net.timesteps, axis=1)
    return net, x, source


def _fill(lp) -> float:
    """The share of a layer's lanes that hold a real neuron."""
    if lp.conv:
        return lp.window.out_shape[0] / (lp.window.channel_groups * lp.lanes)
    return lp.n_out / (lp.groups * lp.lanes)


def measure(net, x, lanes_list, bar):
    g = golden.run(net, x)
    rows = []
    for lanes in lanes_list:
        walk = cycles.walk_cycles(net, lanes, x)              # [sample, layer, step]
        t0 = time.perf_counter()
        r = run_network(SNNCore(net, lanes=lanes), x)
        wall = time.perf_counter() - t0
        plans = plan_core(net, lanes).layers
        per_layer = [int(walk[:, lp.index].sum()) for lp in plans]
        ideal = sum(per_layer)
        rows.append({
            "lanes": lanes,
            "cycles_per_inference": r.cycles / len(x),
            "ideal_per_inference": ideal / len(x),
            "utilisation": ideal / r.cycles,
            "bottleneck_utilisation": max(per_layer) / r.cycles,
            "lanes_busy": [round(r.synapse_cycles[k] * _fill(lp) / max(
                r.cycles - r.starved_cycles[k] - r.blocked_cycles[k], 1), 4)
                for k, lp in enumerate(plans)],
            "lanes_busy_all": [round(r.synapse_cycles[k] * _fill(lp) / r.cycles, 4)
                               for k, lp in enumerate(plans)],
            "layer_kinds": ["conv" if lp.conv else "dense" for lp in plans],
            "synapse_cycles_equal_ideal": r.synapse_cycles == per_layer,
            "exact": r.logits == g.logits.tolist(),
            "sim_seconds": round(wall, 2),
        })
        bar.update(1)
    return rows


def measure_serial(net, x, lanes_list, bar):
    """The serial core: cycles per inference against its ideal, one group of ``lanes``
    synapses a cycle (the groups the events visit) plus one cycle per neuron swept
    (:func:`snnhw.gateware.serial.ideal_cycles`)."""
    from snnhw.gateware.serial import SerialCore, SerialPlan, ideal_cycles

    g = golden.run(net, x)
    rows = []
    for lanes in lanes_list:
        plan = SerialPlan(net, lanes)
        walk = cycles.walk_cycles(net, lanes, x)               # [sample, layer, step]
        ideal = sum(ideal_cycles(plan, w) for w in walk)
        t0 = time.perf_counter()
        r = run_network(SerialCore(net, lanes=lanes), x)
        wall = time.perf_counter() - t0
        rows.append({
            "lanes": lanes, "core": "serial",
            "cycles_per_inference": r.cycles / len(x),
            "ideal_per_inference": ideal / len(x),
            "utilisation": ideal / r.cycles,
            "times_ideal": round(r.cycles / ideal, 3),
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
    ap.add_argument("--cnn-mnist1d", default="out/cnn/mnist1d.snn",
                    help="MNIST-1D spiking CNN IR file (%(default)s)")
    ap.add_argument("--cnn-digits", default="out/cnn/digits.snn",
                    help="digits spiking CNN IR file (%(default)s)")
    ap.add_argument("--cnn-samples", type=int, default=4, help="CNN test samples (%(default)s)")
    ap.add_argument("--only", default="digits,784-128-10,mnist1d-cnn,digits-cnn",
                    help="networks, comma separated (%(default)s)")
    ap.add_argument("--skip-mnist", action="store_true", help="leave out 784-128-10")
    ap.add_argument("--core", choices=["pipeline", "serial"], default="pipeline",
                    help="pipeline: a processing element per layer; serial: one for all "
                         "layers (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if min(args.samples, args.mnist_samples, args.cnn_samples) < 1:
        raise SystemExit("hw_cycles: --samples, --mnist-samples and --cnn-samples must be "
                         "positive")
    from tqdm.auto import tqdm

    lanes_list = [int(v) for v in args.lanes.split(",")]
    makers = {"digits": lambda: digits_case(args.net, args.samples),
              "784-128-10": lambda: mnist_case(args.mnist_samples),
              "mnist1d-cnn": lambda: cnn_case("mnist1d", args.cnn_mnist1d, args.cnn_samples),
              "digits-cnn": lambda: cnn_case("digits", args.cnn_digits, args.cnn_samples)}
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in makers]
    if unknown or not names:
        raise SystemExit(f"hw_cycles: networks are {sorted(makers)}, got {args.only!r}")
    if args.skip_mnist and "784-128-10" in names:
        names.remove("784-128-10")
    cases = [(name, *makers[name]()) for name in names]
    report = {"networks": []}
    with tqdm(total=len(cases) * len(lanes_list), desc="simulating", unit="run",
              disable=args.json) as bar:
        for name, net, x, source in cases:
            report["networks"].append({
                "name": name, "sizes": [net.n_in] + [ly.n_out for ly in net.layers],
                "kinds": [ly.kind for ly in net.layers],
                "source": source, "samples": len(x), "timesteps": net.timesteps,
                "rows": (measure_serial if args.core == "serial" else measure)(
                    net, x, lanes_list, bar)})
    ok = all(r["exact"] and r.get("synapse_cycles_equal_ideal", True)
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
              f"{'bottleneck':>10} {'exact':>6}  lanes busy per layer")
        for r in n["rows"]:
            if r.get("core") == "serial":
                print(f"{r['lanes']:>5} {r['cycles_per_inference']:>11.1f} "
                      f"{r['ideal_per_inference']:>10.1f} {r['utilisation']:>6.3f} "
                      f"{'-':>10} {r['exact']!s:>6}  serial core, {r['times_ideal']}x ideal")
                continue
            busy = " ".join(f"{k[0]}:{b:.2f}" for k, b in zip(r["layer_kinds"], r["lanes_busy"]))
            print(f"{r['lanes']:>5} {r['cycles_per_inference']:>11.1f} "
                  f"{r['ideal_per_inference']:>10.1f} {r['utilisation']:>6.3f} "
                  f"{r['bottleneck_utilisation']:>10.3f} {r['exact']!s:>6}  {busy}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
