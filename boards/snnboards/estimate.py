"""Resource and speed estimate without synthesis (``snnhw estimate``).

Block RAM: every memory of the design (layers, FIFOs, the host link's frame
buffer) is costed the way Yosys 0.70's ``memory_libmap`` does
by the board's family (:meth:`snnhw.families.base.Family.bram_blocks`): soft logic
against block RAM (iCE40 ``SB_RAM40_4K`` 256x16 .. 2048x2; ECP5 ``DP16KD`` and Gowin
BSRAM 512x36 .. 16384x1) and LUT RAM where the family has it. A family that builds
a weight ROM from its primitives itself (ECP5: DP16KD, output register on;
:meth:`~snnhw.families.base.Family.builds_rom`) counts those blocks exactly, and one
that keeps the per-neuron state memories in LUT RAM (``state_in_lutram``) counts
them as 0 blocks.
Calibration points (real builds, all exact): iCEBreaker digits at lanes
[2, 1] (28 blocks; the CI build checks it), 784-128-10 at lanes [4, 1] with
SPRAM weights (20), an snnTorch-imported 20-16-8 network at lanes 4 (5),
ULX3S digits at lanes [2, 1] (6), the 256 x 256 layer at lanes 8 (17) and
784-128-10 at lanes 8 (57) on the ULX3S.
Logic cells are the family's
linear model (:class:`~snnhw.families.base.LogicModel`), for iCE40 fitted to real
iCEBreaker builds (:data:`LC_CALIBRATION`: within 12 % leave-one-out; a CI build
checks it).

Weights in SPRAM (iCE40UP5K, :func:`place_weights`): a layer's weight memory
may go to the four 16K x 16-bit SPRAM blocks instead (``ceil(width / 16) *
ceil(depth / 16384)`` of them); the host then loads it at run time (WEIGHTS
frames). ``weights="auto"`` moves the largest weight memories there only
while the block RAM would not fit otherwise.
Cycles per inference use :mod:`snnhw.gateware.cycles` on an average input.
"""

from __future__ import annotations

import numpy as np

from snnhw.families import family as get_family
from snnhw.families.base import LogicModel, fit_scale
from snnhw.families.gowin import GOWIN
from snnhw.families.ice40 import ICE40
from snnhw.gateware import cycles
from snnhw.gateware.cores import CORES, serial_lanes
from snnhw.gateware.network import SNNCore
from snnhw.gateware.plan import BANK_WORDS, design_memories, plan_core
from snnhw.gateware.serial import SerialCore, serial_design_memories
from snnhw.gateware.serial import sample_bound as serial_sample_bound
from snnhw.gateware.weights import builds_rom, spram_units
from snnhw.ir import Network
from snnhw.util import lanes_per_layer

from .errors import BuildError
from .platforms import board as get_board

__all__ = ["memories", "bram_blocks", "estimate", "check_fit", "place_weights", "WEIGHT_MODES"]

WEIGHT_MODES = ("auto", "bram", "spram")
#: the iCE40 pipeline model's base: other families' logic models are scaled from it
ICE40_LOGIC_BASE = ICE40.logic.base


def memories(net: Network, lanes, fam, weights: dict | None = None,
             core: str = "pipeline") -> list[dict]:
    """Every memory in the board design, from the gateware's own plan
    (:func:`snnhw.gateware.plan.design_memories`, or the serial core's
    :func:`snnhw.gateware.serial.serial_design_memories`): name, role, depth (words),
    width (bits), kind, the layer of a weight memory, and its block RAMs on family
    ``fam`` (``blocks``; ``spram`` for a memory in SPRAM)."""
    try:
        if core == "serial":
            specs = serial_design_memories(net, _one_lanes(lanes, net), weights)
        else:
            specs = design_memories(net, lanes, weights)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    out = []
    for m in specs:
        mem = {"name": m.name, "role": m.role, "depth": m.depth, "width": m.width,
               "kind": m.kind, "register": m.is_register, "distributed": m.distributed,
               **({"layer": m.layer} if m.role == "weights" else {})}
        if m.kind == "spram":
            mem.update(blocks=0, spram=spram_units(m.depth, m.width))
        elif m.is_register or (fam.state_in_lutram and m.distributed):
            mem["blocks"] = 0
        elif (own := builds_rom(fam, m)) is not None:
            mem["blocks"] = own          # built from the family's primitives
        elif m.role == "weights" and not fam.weight_bank_registers:
            # one memory in columns (WeightStore._one_memory)
            mem["blocks"] = sum(fam.bram_blocks(m.depth, bits, m.kind == "rom")
                                for bits in fam.weight_columns(m.depth, m.width))
        elif m.role == "weights":
            # the weight store's banks (BANK_WORDS words each) are memories of their own
            mem["blocks"] = sum(fam.bram_blocks(min(BANK_WORDS, m.depth - start), m.width,
                                                m.kind == "rom")
                                for start in range(0, m.depth, BANK_WORDS))
        else:
            mem["blocks"] = fam.bram_blocks(m.depth, m.width, m.kind == "rom")
        out.append(mem)
    return out


def bram_blocks(depth: int, width: int, family: str, rom: bool = False) -> int:
    """Block RAMs Yosys spends on one memory on ``family`` (a name):
    :meth:`snnhw.families.base.Family.bram_blocks`."""
    return get_family(family).bram_blocks(depth, width, rom)


def place_weights(net: Network, lanes, spec, mode: str = "auto",
                  core: str = "pipeline") -> dict[int, str]:
    """``{layer: "spram"}`` for the weight memories that go to SPRAM (see the module
    docstring); ``mode`` ``"bram"`` keeps all in block RAM, ``"spram"`` moves every one
    that fits. The serial ``core`` keeps all layers in one memory: all move or none."""
    if mode not in WEIGHT_MODES:
        raise BuildError(f"weights must be one of {WEIGHT_MODES}, got {mode!r}")
    have = spec.capacity.get("spram", 0)
    if mode == "bram" or (mode == "auto" and not have):
        return {}
    if not have:
        raise BuildError(f"{spec.name} has no SPRAM for the weights (iCE40UP5K boards do)")
    if core == "serial":
        return _place_serial(net, _one_lanes(lanes, net), spec, mode)
    mems = memories(net, lanes, spec.family)
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


def _place_serial(net: Network, lanes: int, spec, mode: str) -> dict[int, str]:
    """:func:`place_weights` for the serial core: its one weight store in SPRAM when
    ``mode`` is ``"spram"``, or ``"auto"`` and the block RAM would not fit otherwise."""
    if mode == "auto":
        mems = memories(net, lanes, spec.family, core="serial")
        if sum(m["blocks"] for m in mems) <= spec.capacity["bram"]:
            return {}
    placed = {k: "spram" for k in range(len(net.layers))}
    try:
        mems = memories(net, lanes, spec.family, placed, core="serial")
    except BuildError as exc:   # words the load port cannot take, mixed w_bits
        if mode == "auto":
            return {}
        raise BuildError(f"the weights cannot go to SPRAM: {exc}") from None
    units = sum(m.get("spram", 0) for m in mems)
    if units > spec.capacity["spram"]:
        if mode == "auto":
            return {}
        raise BuildError(f"the weights need {units} SPRAM blocks of 16K x 16 bits, "
                         f"{spec.name} has {spec.capacity['spram']} (try fewer lanes)")
    return placed


def _one_lanes(lanes, net: Network) -> int:
    """The serial core's one lanes setting (:func:`snnhw.gateware.cores.serial_lanes`),
    a :class:`BuildError` otherwise."""
    try:
        return serial_lanes(lanes, net)
    except ValueError as exc:
        raise BuildError(str(exc)) from None


def estimate(net: Network, board_name: str, *, lanes=8, density: float = 0.5,
             clk_hz: float | None = None, weights: str | dict = "auto",
             core: str = "pipeline") -> dict:
    """Block RAM (per memory and total), SPRAM, logic cells (rough), cycles and latency
    at ``clk_hz`` (the board clock by default). ``weights``: a mode of
    :func:`place_weights`, or its result. ``core``: ``"pipeline"`` or ``"serial"``."""
    spec = get_board(board_name)
    clk_hz = spec.clk_hz if clk_hz is None else clk_hz
    if core == "auto":
        return _estimate_auto(net, spec, lanes, density, clk_hz, weights)
    if core == "serial":
        return _estimate_serial(net, spec, _one_lanes(lanes, net), density, clk_hz, weights)
    if core != "pipeline":
        raise BuildError(f"core must be one of {(*CORES, 'auto')}, got {core!r}")
    try:
        ps = lanes_per_layer(lanes, len(net.layers))
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    placed = weights if isinstance(weights, dict) else place_weights(net, ps, spec, weights)
    mems = memories(net, ps, spec.family, placed)
    ev = _guess_events(net, density)
    bound = cycles.sample_bound(net, ps, ev)
    plan = plan_core(net, ps, placed)
    lc = _logic_cells(plan, spec.family.logic)
    return {
        "board": spec.name, "family": spec.family.name, "lanes": ps,
        "memories": mems, "bram": sum(m["blocks"] for m in mems),
        "spram": sum(m.get("spram", 0) for m in mems),
        "weights": {str(k): v for k, v in sorted(placed.items())},
        "memory_bits": sum(m["depth"] * m["width"] for m in mems),
        "lc": lc, "dsp": 0,
        "cycles_per_inference": int(bound), "input_density": density,
        "latency_us": round(bound / clk_hz * 1e6, 1), "clock_mhz": clk_hz / 1e6,
        "logit_bits": plan.layers[-1].logit_bits, "core": "pipeline",
    }


#: The iCE40 logic-cell model of the pipeline core (the family's ``logic``: cells for
#: the UART, host link and core glue; per layer (control FSM, walk counters, sweep and
#: serializer bookkeeping, spike FIFO); per lane and bit of accumulator plus membrane
#: (pipeline registers, adders, neuron lane); per lane and weight bit (weight registers,
#: shifted terms); per address bit of a conv layer's weights and accumulators (the
#: walk's counters and their adders)) is a non-negative least-squares fit to the
#: designs in LC_CALIBRATION (``bench/lc_fit.py`` packs them and refits): within 6.9 %
#: of each but the 256x256 layer (a single layer with a spike-count readout, which the
#: terms do not describe well: 23 % under at lanes 1, 11 % over at lanes 8); each
#: predicted by a fit to the others within 8.5 %, but those two (31 % and 25 %).
#: The designs: the ``bench/fmax.py`` network (``digits-w4``: the digits shape with
#: seeded 4-bit weights), lanes, the weights option, the model's terms
#: (:func:`pipeline_lc_features`), logic cells nextpnr packed (with the host link, 30 MHz
#: PLL).
LC_CALIBRATION = (
    ("digits", "2,1", "auto", (1, 2, 94, 24, 0), 2342),
    ("digits", "1", "auto", (1, 2, 62, 16, 0), 1922),
    ("digits", "2", "auto", (1, 2, 124, 32, 0), 2563),
    ("digits", "4", "auto", (1, 2, 248, 64, 0), 4424),
    ("digits", "8", "auto", (1, 2, 496, 128, 0), 6713),
    ("digits-w4", "1", "auto", (1, 2, 56, 8, 0), 1769),
    ("digits-w4", "2", "auto", (1, 2, 112, 16, 0), 2601),
    ("digits-w4", "4", "auto", (1, 2, 224, 32, 0), 3574),
    ("256x256", "1", "spram", (1, 1, 22, 4, 0), 1247),
    ("256x256", "8", "spram", (1, 1, 176, 32, 0), 2364),
    ("784-128-10", "8", "auto", (1, 2, 568, 128, 0), 7830),
    ("digits-cnn", "1", "auto", (1, 4, 128, 32, 44), 4172),
    ("digits-cnn", "2", "auto", (1, 4, 256, 64, 40), 5742),
    ("mnist1d-cnn", "1", "auto", (1, 5, 159, 40, 64), 5527),
)


#: the terms of a :class:`~snnhw.families.base.LogicModel`, in the order
#: :func:`pipeline_lc_features` gives what they multiply
PIPELINE_TERMS = LogicModel.terms()


def pipeline_lc_features(plan) -> tuple[int, ...]:
    """What the terms of the pipeline core's logic model multiply (:data:`PIPELINE_TERMS`):
    1; the layers (a recurrent layer twice: its replay FIFO, serializer and REPLAY state
    are about a layer's bookkeeping again; 7-128r-10 at lanes 4 synthesised +432 LUT, +326
    FF over the same net without recurrence); per layer lanes times bits of accumulator
    plus membrane; lanes times weight bits; a conv layer's weight and accumulator address
    bits."""
    layers = state = weight = conv = 0
    for lp in plan.layers:
        p = lp.lanes
        layers += 2 if lp.recurrent else 1
        state += p * (lp.acc_width + lp.u_bits)
        weight += p * lp.w_bits
        if lp.conv:
            conv += (lp.memory("weights").depth.bit_length()
                     + lp.memory("accumulators").depth.bit_length())
    return (1, layers, state, weight, conv)


def lc_features(net: Network, board_name: str, *, lanes, weights: str = "auto",
                core: str = "pipeline") -> tuple[int, ...]:
    """The logic model's terms for ``net`` as :func:`estimate` plans it."""
    spec = get_board(board_name)
    if core == "serial":
        p = _one_lanes(lanes, net)
        placed = place_weights(net, p, spec, weights, core="serial")
        return serial_lc_features(SerialCore.check(net, lanes=p, weights=placed))
    ps = lanes_per_layer(lanes, len(net.layers))
    return pipeline_lc_features(plan_core(net, ps, place_weights(net, ps, spec, weights)))


def _logic_cells(plan, model) -> int:
    """The family's linear ``model`` (:class:`~snnhw.families.base.LogicModel`) in the
    plan's widths, lanes and layers (:func:`pipeline_lc_features`); an estimate (iCE40:
    within a few % of the builds in :data:`LC_CALIBRATION`)."""
    return round(model.cells(pipeline_lc_features(plan)))


def _guess_events(net: Network, density: float) -> np.ndarray:
    """``events[layer, step]`` of an average sample: inputs at ``density``, hidden layers
    at the same rate (a rough guess), and a recurrent layer's own spikes of the step
    before at that rate too (every step but the first)."""
    ev = np.array([[round(density * (net.n_in if li == 0 else net.layers[li - 1].n_out))] *
                   net.timesteps for li in range(len(net.layers))])
    for li, ly in enumerate(net.layers):
        if ly.feedback is not None:
            ev[li, 1:] += round(density * ly.n_out)
    return ev


def _estimate_auto(net: Network, spec, lanes, density: float, clk_hz: float, weights) -> dict:
    """The pipeline core when it fits the board, else the serial core when it does (at
    the same lanes); ``core`` and ``core_reason`` say which and why."""
    pipe = estimate(net, spec.name, lanes=lanes, density=density, clk_hz=clk_hz,
                    weights=weights)
    try:
        check_fit(pipe, spec)
        return {**pipe, "core": "pipeline", "core_reason": "the pipeline core fits"}
    except BuildError as exc:
        why = str(exc)
    try:
        serial = estimate(net, spec.name, lanes=lanes, density=density, clk_hz=clk_hz,
                          weights=weights if isinstance(weights, str) else "auto",
                          core="serial")
    except BuildError as exc:       # a network or lanes the serial core does not take
        return {**pipe, "core": "pipeline",
                "core_reason": f"the pipeline core does not fit and the serial core "
                               f"cannot be used: {exc}"}
    return {**serial, "core_reason": f"the pipeline core does not fit ({why}); the serial "
                                     "core is used"}


def _estimate_serial(net: Network, spec, lanes: int, density: float, clk_hz: float,
                     weights) -> dict:
    """:func:`estimate` for the serial core; ``weights`` a mode of :func:`place_weights`
    or its result."""
    placed = (weights if isinstance(weights, dict)
              else place_weights(net, lanes, spec, weights, core="serial"))
    try:
        plan = SerialCore.check(net, lanes=lanes, weights=placed)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    mems = memories(net, lanes, spec.family, placed, core="serial")
    ev = _guess_events(net, density)
    bound = serial_sample_bound(plan, ev)
    return {
        "board": spec.name, "family": spec.family.name, "lanes": [lanes] * len(net.layers),
        "core": "serial", "memories": mems, "bram": sum(m["blocks"] for m in mems),
        "spram": sum(m.get("spram", 0) for m in mems),
        "weights": {str(k): v for k, v in sorted(placed.items())},
        "memory_bits": sum(m["depth"] * m["width"] for m in mems),
        "lc": _serial_logic_cells(plan, spec.family), "dsp": 0,
        "cycles_per_inference": int(bound), "input_density": density,
        "latency_us": round(bound / clk_hz * 1e6, 1), "clock_mhz": clk_hz / 1e6,
        "logit_bits": plan.readout.logit_bits,
    }


#: The serial core's iCE40 logic-cell model: ``base`` (the UART, host link, control
#: and tables) + ``lane_bit`` per lane and bit of accumulator, two membranes and a
#: weight (the walk's per-lane registers, shifted adds and accumulate, the lane pick)
#: + ``windowed`` when a layer is windowed (the window walk's counters, keys, lane
#: offsets, the walk-start memory) + ``loaded`` when the host loads the weights
#: (WEIGHTS frames: the weight loader, the range checks, the store's write path). A
#: non-negative least-squares fit to the iCEBreaker builds in
#: :data:`SERIAL_LC_CALIBRATION` (``bench/lc_fit.py`` packs them and refits):
#: within 2.5 % of each; each predicted by a fit to the other nine within 4.2 %.
#: Other families scale it as their pipeline model does, or by
#: :data:`SERIAL_LOGIC_SCALE` (Gowin).
SERIAL_LOGIC = {"base": 1312.64, "lane_bit": 2.14, "windowed": 763.48, "loaded": 49.85}
#: the designs: the ``bench/fmax.py`` network, lanes, the weights option, the model's
#: terms (:func:`serial_lc_features`), logic cells nextpnr packed (with the host link,
#: 30 MHz PLL)
SERIAL_LC_CALIBRATION = (
    ("digits", "1", "bram", (1, 56, 0, 0), 1414),
    ("digits", "1", "spram", (1, 56, 0, 1), 1505),
    ("digits", "2", "bram", (1, 112, 0, 0), 1525),
    ("digits", "4", "bram", (1, 224, 0, 0), 1838),
    ("784-128-10-w4", "2", "spram", (1, 112, 0, 1), 1594),
    ("784-128-10-w4", "4", "spram", (1, 224, 0, 1), 1837),
    ("784-128-10-w4", "8", "spram", (1, 448, 0, 1), 2312),
    ("mnist1d-cnn", "1", "spram", (1, 56, 1, 1), 2254),
    ("mnist1d-cnn", "2", "spram", (1, 112, 1, 1), 2364),
    ("mnist1d-cnn", "4", "spram", (1, 224, 1, 1), 2599),
)
SERIAL_TERMS = ("base", "lane_bit", "windowed", "loaded")


def serial_lc_features(plan) -> tuple[int, int, int, int]:
    """What the terms of :data:`SERIAL_LOGIC` multiply, in :data:`SERIAL_TERMS`' order: 1,
    lanes times bits of accumulator, two membranes and a weight, whether a layer is
    windowed, whether the host loads the weights."""
    return (1, plan.lanes * (plan.acc_width + 2 * plan.u_bits + plan.w_bits),
            int(plan.has_conv), int(plan.weights != "rom"))


#: Gowin builds of the serial core (``bench/fmax.py --core serial``, seed 1, 100 MHz, at
#: commit b0d3d63): board, network, lanes, the model's terms, LUT4 + ALU cells placed.
#: The serial core costs Gowin relatively more than the pipeline core does (its
#: LUT RAM and wide multiplexers), so it has its own scale of the iCE40 model.
GOWIN_SERIAL_LC_CALIBRATION = (
    ("tang_nano_9k", "digits", "1", (1, 56, 0, 0), 2345),
    ("tang_primer_20k", "digits", "1", (1, 56, 0, 0), 2358),
    ("tang_primer_20k", "784-128-10-w4", "4", (1, 224, 0, 0), 3549),
    ("tang_primer_20k", "mnist1d-cnn", "4", (1, 224, 1, 0), 4145),
)


def _serial_model(terms) -> float:
    return sum(SERIAL_LOGIC[k] * f for k, f in zip(SERIAL_TERMS, terms))


#: the serial model's scale per family where it is not the pipeline model's: the
#: least-squares scale over the builds above (Gowin: within 14 % of each)
SERIAL_LOGIC_SCALE = {
    GOWIN.name: fit_scale((b, _serial_model(t)) for *_, t, b in GOWIN_SERIAL_LC_CALIBRATION),
}


def _serial_logic_cells(plan, fam) -> int:
    """:data:`SERIAL_LOGIC` for the serial core ``plan`` on family ``fam`` (scaled as the
    family's pipeline model is, or by :data:`SERIAL_LOGIC_SCALE`)."""
    scale = SERIAL_LOGIC_SCALE.get(fam.name, fam.logic.base / ICE40_LOGIC_BASE)
    return round(_serial_model(serial_lc_features(plan)) * scale)


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
