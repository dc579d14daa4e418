"""Memories of the per-neuron state (accumulators, bias, membranes), banked in ECP5 LUT RAM.

A read of a LUT RAM of 256 words is a 16-way multiplexer behind the RAM within
one cycle. On ECP5 a :class:`~snnhw.gateware.plan.MemorySpec` that is
``distributed`` and deeper than :data:`LUTRAM_BANK_WORDS` is therefore cut into
banks of that many words, each read into its own register, and the bank is
picked after those registers (each consumer takes the word into a register,
through at most an adder). Elsewhere (iCE40 block RAM, simulation, the exported
Verilog) it is one memory. Either way the read port is synchronous: the word at
``addr`` is on ``data`` the next cycle, so the cycle timing is the same.
"""

from __future__ import annotations

import math

from amaranth.hdl import Signal, unsigned
from amaranth.lib import memory

from ..families import of_platform
from .collision import collision_free_read
from .plan import MemorySpec
from .select import pick

__all__ = ["LUTRAM_BANK_WORDS", "MemoryPort", "state_memory"]

#: Words per bank of a neuron-state memory in ECP5 LUT RAM
LUTRAM_BANK_WORDS = 64


class MemoryPort:
    """The signals of one read or write port (``addr``, ``data``, ``en``)."""

    def __init__(self, depth, width, name):
        self.addr = Signal(range(max(depth, 2)), name=f"{name}_addr")
        self.data = Signal(width, name=f"{name}_data")
        self.en = Signal(name=f"{name}_en")


def state_memory(m, spec: MemorySpec, platform, name: str, *, init=()):
    """The memory ``spec`` as submodule ``name`` (banks ``name0``, ``name1``... when
    banked): a synchronous read port and, unless it is a ROM (``init`` its words), a
    write port (``None`` for a ROM). Returns ``(read, write)``."""
    rd = MemoryPort(spec.depth, spec.width, f"{name}_rd")
    wr = None if spec.kind == "rom" else MemoryPort(spec.depth, spec.width, f"{name}_wr")
    init = list(init)
    fam = of_platform(platform)
    banked = (spec.distributed and fam is not None and fam.state_in_lutram
              and spec.depth > LUTRAM_BANK_WORDS)
    n_banks = math.ceil(spec.depth / LUTRAM_BANK_WORDS) if banked else 1
    words_per_bank = LUTRAM_BANK_WORDS if banked else spec.depth
    low = (LUTRAM_BANK_WORDS.bit_length() - 1) if banked else len(rd.addr)
    words = []
    for b in range(n_banks):
        depth = min(words_per_bank, spec.depth - b * words_per_bank)
        mem = memory.Memory(shape=unsigned(spec.width), depth=depth,
                            init=init[b * words_per_bank:(b + 1) * words_per_bank],
                            attrs=spec.attrs(platform))
        m.submodules[f"{name}{b}" if banked else name] = mem
        r = mem.read_port()
        m.d.comb += r.addr.eq(rd.addr[:low])
        if wr is None:
            words.append(r.data)
        else:
            w = mem.write_port()
            hit = (wr.addr[low:] == b) if banked else 1
            m.d.comb += [w.en.eq(wr.en & hit), w.addr.eq(wr.addr[:low]), w.data.eq(wr.data)]
            # the cores read a state word a cycle after its write at the earliest
            words.append(collision_free_read(m, mem, r, w, platform))
    if not banked:
        m.d.comb += rd.data.eq(words[0])
        return rd, wr
    sel = Signal(len(rd.addr) - low, reset_less=True)
    m.d.sync += sel.eq(rd.addr[low:])
    m.d.comb += rd.data.eq(pick(m, words, sel, f"{name}_bank_pick"))
    return rd, wr
