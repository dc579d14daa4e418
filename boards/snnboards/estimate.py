"""Resource and speed estimate without synthesis (``snnhw estimate``).

Block RAM: every memory of the design (layers, FIFOs, the host link's frame
buffer) is costed the way Yosys 0.70's ``memory_libmap`` does
(:func:`bram_blocks`): soft logic against block RAM (iCE40 ``SB_RAM40_4K``
256x16, 512x8, 1024x4, 2048x2; ECP5 ``DP16KD`` 512x36 .. 16384x1) and, on
ECP5, LUT RAM. On ECP5 the gateware builds a weight ROM that would go to block
RAM from DP16KD blocks itself (1024 x 18 or 2048 x 9, output register on:
:mod:`snnhw.gateware.weights`), counted exactly as
:func:`~snnhw.gateware.weights.dp16kd_units`, and keeps the per-neuron state
memories of up to 256 words in LUT RAM (``MemorySpec.distributed``): 0 blocks.
Calibration points (real builds, all exact): iCEBreaker digits at lanes
[2, 1] (28 blocks; the CI build checks it), 784-128-10 at lanes [4, 1] with
SPRAM weights (20), an snnTorch-imported 20-16-8 network at lanes 4 (5),
ULX3S digits at lanes [2, 1] (6), the 256 x 256 layer at lanes 8 (17) and
784-128-10 at lanes 8 (57) on the ULX3S.
Logic cells are a
linear model fitted to real iCEBreaker builds (:data:`LC_CALIBRATION`: within
12 % leave-one-out; a CI build checks it).

Weights in SPRAM (iCE40UP5K, :func:`place_weights`): a layer's weight memory
may go to the four 16K x 16-bit SPRAM blocks instead (``ceil(width / 16) *
ceil(depth / 16384)`` of them); the host then loads it at run time (WEIGHTS
frames). ``weights="auto"`` moves the largest weight memories there only
while the block RAM would not fit otherwise.
Cycles per inference use :mod:`snnhw.gateware.cycles` on an average input.
"""

from __future__ import annotations

import math

import numpy as np

from snnhw.gateware import cycles
from snnhw.gateware.network import SNNCore
from snnhw.gateware.plan import design_memories, plan_core
from snnhw.gateware.weights import dp16kd_units, spram_units, uses_dp16kd
from snnhw.ir import Network
from snnhw.util import lanes_per_layer

from .errors import BuildError
from .platforms import board as get_board

__all__ = ["memories", "bram_blocks", "estimate", "check_fit", "place_weights", "WEIGHT_MODES",
           "ICE40_SHAPES", "ECP5_SHAPES"]

ICE40_SHAPES = ((256, 16), (512, 8), (1024, 4), (2048, 2))
ECP5_SHAPES = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))
LOGIC_COST_RAM, LOGIC_COST_ROM = 1.0, 1.0 / 16
WEIGHT_MODES = ("auto", "bram", "spram")


def memories(net: Network, lanes, weights: dict | None = None) -> list[dict]:
    """Every memory in the board design, from the gateware's own plan
    (:func:`snnhw.gateware.plan.design_memories`): name, role, depth (words),
    width (bits), kind, and the layer of a weight memory."""
    try:
        mems = design_memories(net, lanes, weights)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    return [{"name": m.name, "role": m.role, "depth": m.depth, "width": m.width,
             "kind": m.kind, "register": m.is_register, "distributed": m.distributed,
             "dp16kd": m.role == "weights" and uses_dp16kd(m),
             **({"layer": m.layer} if m.role == "weights" else {})} for m in mems]


def bram_blocks(depth: int, width: int, family: str, rom: bool = False) -> int:
    """Block RAMs Yosys's ``memory_libmap`` spends on one memory (0: logic or LUT RAM).

    Its cost model: soft logic costs :data:`LOGIC_COST_RAM` per bit (a ROM
    :data:`LOGIC_COST_ROM`), a block its library cost (iCE40 ``SB_RAM40_4K`` 64,
    ECP5 ``DP16KD`` 128), ECP5 LUT RAM 4 per 16 x 4 bits; the cheapest wins, logic
    on a tie with blocks, blocks on a tie with LUT RAM (as observed).
    """
    shapes = ICE40_SHAPES if family == "ice40" else ECP5_SHAPES
    blocks = min(math.ceil(depth / d) * math.ceil(width / w) for d, w in shapes)
    block_cost = blocks * (64 if family == "ice40" else 128)
    logic_cost = depth * width * (LOGIC_COST_ROM if rom else LOGIC_COST_RAM)
    if logic_cost <= block_cost:
        return 0
    if family == "ecp5" and math.ceil(depth / 16) * math.ceil(width / 4) * 4 < block_cost:
        return 0
    return blocks


def _costed(mems: list[dict], family: str) -> list[dict]:
    """``mems`` with their block RAMs (and SPRAM blocks for memories placed there)."""
    for mem in mems:
        if mem["kind"] == "spram":
            mem.update(blocks=0, spram=spram_units(mem["depth"], mem["width"]))
        elif mem["register"] or (family == "ecp5" and mem["distributed"]):
            mem["blocks"] = 0
        elif family == "ecp5" and mem["dp16kd"]:
            mem["blocks"] = dp16kd_units(mem["depth"], mem["width"])  # built as DP16KD
        else:
            mem["blocks"] = bram_blocks(mem["depth"], mem["width"], family, mem["kind"] == "rom")
    return mems


def place_weights(net: Network, lanes, spec, mode: str = "auto") -> dict[int, str]:
    """``{layer: "spram"}`` for the weight memories that go to SPRAM (see the module
    docstring); ``mode`` ``"bram"`` keeps all in block RAM, ``"spram"`` moves every one
    that fits."""
    if mode not in WEIGHT_MODES:
        raise BuildError(f"weights must be one of {WEIGHT_MODES}, got {mode!r}")
    have = spec.capacity.get("spram", 0)
    if mode == "bram" or (mode == "auto" and not have):
        return {}
    if not have:
        raise BuildError(f"{spec.name} has no SPRAM for the weights (iCE40UP5K boards do)")
    mems = _costed(memories(net, lanes), spec.family)
    total = sum(mem["blocks"] for mem in mems)
    placed, used = {}, 0
    weights = sorted((mem for mem in mems if mem["role"] == "weights"),
                     key=lambda mem: -mem["blocks"])
    for mem in weights:
        if mode == "auto" and total <= spec.capacity["bram"]:
            break
        units = spram_units(mem["depth"], mem["width"])
        if (mem["width"] > SNNCore.LOAD_WIDTH or mem["depth"] > SNNCore.LOAD_DEPTH
                or used + units > have or mem["blocks"] == 0):
            continue
        placed[mem["layer"]] = "spram"
        used += units
        total -= mem["blocks"]
    if mode == "spram" and not placed:
        raise BuildError(f"no layer's weights fit {spec.name}'s SPRAM ({have} blocks of "
                             f"16K x 16 bits, at most {SNNCore.LOAD_WIDTH}-bit words)")
    return placed


def estimate(net: Network, board_name: str, *, lanes=8, density: float = 0.5,
             clk_hz: float | None = None, weights: str | dict = "auto") -> dict:
    """Block RAM (per memory and total), SPRAM, logic cells (rough), cycles and latency
    at ``clk_hz`` (the board clock by default). ``weights``: a mode of
    :func:`place_weights`, or its result."""
    spec = get_board(board_name)
    clk_hz = spec.clk_hz if clk_hz is None else clk_hz
    try:
        ps = lanes_per_layer(lanes, len(net.layers))
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    placed = weights if isinstance(weights, dict) else place_weights(net, ps, spec, weights)
    mems = _costed(memories(net, ps, placed), spec.family)
    # average events: inputs at `density`, hidden layers at the same rate (a rough guess)
    ev = np.array([[round(density * (net.n_in if li == 0 else net.layers[li - 1].n_out))] *
                   net.timesteps for li in range(len(net.layers))])
    bound = cycles.sample_bound(net, ps, ev)
    plan = plan_core(net, ps, placed)
    lc = _logic_cells(plan)
    return {
        "board": spec.name, "family": spec.family, "lanes": ps,
        "memories": mems, "bram": sum(m["blocks"] for m in mems),
        "spram": sum(m.get("spram", 0) for m in mems),
        "weights": {str(k): v for k, v in sorted(placed.items())},
        "memory_bits": sum(m["depth"] * m["width"] for m in mems),
        "lc": lc, "dsp": 0,
        "cycles_per_inference": int(bound), "input_density": density,
        "latency_us": round(bound / clk_hz * 1e6, 1), "clock_mhz": clk_hz / 1e6,
        "logit_bits": plan.layers[-1].logit_bits,
    }


#: Logic-cell model (:func:`_logic_cells`): cells for the UART, host link and core glue;
#: per layer (control FSM, walk counters, sweep and serializer bookkeeping, spike FIFO);
#: per lane and bit of accumulator plus membrane (pipeline registers, adders, neuron
#: lane); per lane and weight bit (weight registers, shifted terms); per address bit of
#: a conv layer's weights and accumulators (the walk's counters and their adders).
#: Non-negative least squares over 12 iCEBreaker builds: the designs in LC_CALIBRATION,
#: the 256x256 layer at lanes 8 built twice (3,099 and 3,104 cells).
LC_BASE, LC_LAYER, LC_STATE_BIT, LC_WEIGHT_BIT, LC_CONV_ADDR_BIT = 827, 437, 7.94, 14.93, 19.4

#: The builds the model was fitted to: network, lanes, logic cells nextpnr packed
#: (for the last three, packed but not placeable), the model's value. Leave-one-out
#: (each build predicted by a fit to the other eleven) the error is at most 12 %.
LC_CALIBRATION = (
    ("digits 64-128-10, 5-bit inputs, w8", "2,1", 2677, 2806),
    ("256x256, 4-bit weights in SPRAM", "1", 1601, 1498),
    ("256x256, 4-bit weights in SPRAM", "8", 3099, 3139),
    ("digits 64-128-10 export, w4", "1", 2247, 2257),
    ("digits 64-128-10 export, w4", "2", 2912, 2813),
    ("digits 64-128-10 export, w4", "4", 3907, 3926),
    ("digits 64-128-10 export, w8", "1", 2370, 2432),
    ("digits 64-128-10 export, w8", "2", 3271, 3163),
    ("digits CNN c16k3p1,sp2,c32k3p1,sp2,d128", "1", 4786, 4923),
    ("digits CNN c16k3p1,sp2,c32k3p1,sp2,d128", "2", 6490, 6339),
    ("digits 64-128-10, 5-bit inputs, w8", "8", 7522, 7550),
)


def _logic_cells(plan) -> int:
    """The linear model above, in the plan's widths, lanes and layers; within about
    12 % of the builds measured (:data:`LC_CALIBRATION`), an estimate all the same."""
    total = LC_BASE
    for lp in plan.layers:
        p = lp.lanes
        total += LC_LAYER + LC_STATE_BIT * p * (lp.acc_width + lp.u_bits)
        total += LC_WEIGHT_BIT * p * lp.w_bits
        if lp.conv:
            total += LC_CONV_ADDR_BIT * (lp.memory("weights").depth.bit_length()
                                         + lp.memory("accumulators").depth.bit_length())
    return round(total)


def check_fit(est: dict, spec) -> None:
    """Raise ``BuildError`` naming every resource the estimate exceeds, and by how much."""
    over = []
    for key, need in (("bram", est["bram"]), ("spram", est["spram"]), ("lc", est["lc"])):
        have = spec.capacity.get(key)
        if have is not None and need > have:
            over.append(f"{key}: needs {need}, the device has {have} "
                        f"({need - have} too many, {100 * need / have:.0f} %)")
    if over:
        biggest = sorted(est["memories"], key=lambda m: -m["blocks"])[:3]
        hint = ", ".join(f"{m['name']} {m['blocks']}" for m in biggest)
        raise BuildError(f"the network does not fit {spec.name}: " + "; ".join(over)
                         + f" (largest memories in blocks: {hint}); try fewer lanes, "
                         "narrower weights or a larger board")
