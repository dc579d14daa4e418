"""Amaranth-simulator stream helpers (``async`` testbenches, Amaranth 0.5).

``put``/``get`` move payloads over a ``lib.stream`` interface honouring
valid/ready, with pauses from :func:`snnhw.protocol.streams.pauses` (shared with the
cocotb testbenches), and :func:`run_network` drives a whole
:class:`~snnhw.gateware.network.SNNCore`.
"""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Fragment
from amaranth.sim import Simulator

from ..protocol.streams import Event, Result, decode_results, encode_batch, pauses

__all__ = ["put", "get", "simulate", "uart_send", "uart_receive", "run_network", "NetworkRun",
           "StandInPlatform"]


async def put(ctx, stream, payloads, pause_iter):
    """Send every payload (a dict or int per beat); idle on ``True`` from ``pause_iter``."""
    for payload in payloads:
        while next(pause_iter):
            await ctx.tick()
        ctx.set(stream.payload, payload)
        ctx.set(stream.valid, 1)
        await ctx.tick().until(stream.ready)
        ctx.set(stream.valid, 0)


async def get(ctx, stream, count, pause_iter, out: list):
    """Receive ``count`` beats into ``out``, holding ``ready`` low on pauses."""
    while len(out) < count:
        if next(pause_iter):
            ctx.set(stream.ready, 0)
            await ctx.tick()
            continue
        ctx.set(stream.ready, 1)
        (payload,) = await ctx.tick().sample(stream.payload).until(stream.valid)
        out.append(payload)
        ctx.set(stream.ready, 0)


async def uart_send(ctx, pin, data: bytes, divisor: int) -> None:
    """Drive ``pin`` with ``data`` as 8N1 UART bytes, least significant bit first,
    ``divisor`` cycles a bit."""
    for byte in data:
        for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
            ctx.set(pin, bit)
            await ctx.tick().repeat(divisor)


async def uart_receive(ctx, pin, divisor: int) -> int:
    """The next 8N1 byte on ``pin``: wait for a start bit, sample each bit in its middle."""
    while True:
        await ctx.tick()
        if not ctx.get(pin):
            break
    await ctx.tick().repeat(divisor + divisor // 2)
    byte = 0
    for i in range(8):
        byte |= ctx.get(pin) << i
        await ctx.tick().repeat(divisor)
    return byte


class StandInPlatform:
    """Stands in for a device's platform in the simulator: what the gateware asks of
    one, its ``family`` (the memories it builds differ by family)."""

    def __init__(self, family: str):
        self.family = family


class _ElaboratedFor(Elaboratable):
    """``dut`` elaborated for ``platform`` (e.g. a :class:`StandInPlatform`)."""

    def __init__(self, dut, platform):
        self.dut, self.platform = dut, platform

    def elaborate(self, platform):
        return Fragment.get(self.dut, self.platform)


def _for(dut, platform):
    return dut if platform is None else _ElaboratedFor(dut, platform)


def simulate(dut, *testbenches, background=(), period: float = 1e-8, platform=None) -> None:
    """Run ``dut`` (elaborated for ``platform``, if given) with one clock until every
    testbench has returned; ``background`` testbenches run alongside and are stopped
    then."""
    sim = Simulator(_for(dut, platform))
    sim.add_clock(period)
    for tb in testbenches:
        sim.add_testbench(tb)
    for tb in background:
        sim.add_testbench(tb, background=True)
    sim.run()


class NetworkRun:
    """Result of :func:`run_network`: logits, classes, cycles and counters."""

    def __init__(self, logits, classes, cycles, synapse_cycles, first_out_cycle,
                 starved_cycles=None, blocked_cycles=None):
        self.logits, self.classes = logits, classes
        self.cycles, self.synapse_cycles = cycles, synapse_cycles
        self.first_out_cycle = first_out_cycle
        #: per layer, the cycles it waited for input with nothing to do (LIFLayer.starved)
        #: and those it waited for room downstream (LIFLayer.blocked)
        self.starved_cycles = starved_cycles or [0] * len(synapse_cycles)
        self.blocked_cycles = blocked_cycles or [0] * len(synapse_cycles)


def run_network(core, x, *, in_pauses="none", out_pauses="none", seed=0,
                clear_after: int | None = None, max_cycles: int = 10_000_000,
                vcd: str | None = None, platform=None) -> NetworkRun:
    """Run ``x[batch, T, n_in]`` through ``core`` in the Amaranth simulator.

    ``clear_after``: pulse ``clear`` after that many input events have been
    sent, then send the whole batch again from the start (the partial sample
    must leave no trace). ``platform``: elaborate the core for it (the memories
    it builds differ by device family). Returns logits/classes decoded from the output
    stream, total cycles and per layer the synapse-active, starved and blocked cycle
    counts.
    """
    events = encode_batch(x)
    n_out = core.net.n_out
    batch = len(x)
    beats: list = []
    layers = getattr(core, "layers", [])      # the serial core has no per-layer elements
    n = len(layers)
    stats = {"cycles": 0, "syn": [0] * n, "starved": [0] * n, "blocked": [0] * n,
             "first_out": None}

    def as_dict(e: Event):
        return {"index": e.index, "value": e.value, "eos": e.eos}

    async def driver(ctx):
        p = pauses(in_pauses, seed)
        if clear_after is not None:
            await put(ctx, core.i, [as_dict(e) for e in events[:clear_after]], p)
            ctx.set(core.clear, 1)
            await ctx.tick()
            ctx.set(core.clear, 0)
        await put(ctx, core.i, [as_dict(e) for e in events], p)

    async def monitor(ctx):
        raw: list = []
        await get(ctx, core.o, batch * (n_out + 1), pauses(out_pauses, seed + 1), raw)
        beats.extend(Result(int(b.value), int(b.is_class), int(b.last)) for b in raw)

    async def counter(ctx):
        while True:
            await ctx.tick()
            stats["cycles"] += 1
            for k, layer in enumerate(layers):
                stats["syn"][k] += ctx.get(layer.syn.active)
                stats["starved"][k] += ctx.get(layer.starved)
                stats["blocked"][k] += ctx.get(layer.blocked)
            if stats["first_out"] is None and ctx.get(core.o.valid):
                stats["first_out"] = stats["cycles"]
            if stats["cycles"] > max_cycles:
                raise RuntimeError(f"no result after {max_cycles} cycles")

    sim = Simulator(_for(core, platform))
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_testbench(monitor)
    sim.add_testbench(counter, background=True)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    logits, classes = decode_results(beats, n_out)
    return NetworkRun(logits, classes, stats["cycles"], stats["syn"], stats["first_out"],
                      stats["starved"], stats["blocked"])
