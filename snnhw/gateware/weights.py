"""Where a synapse array keeps its weights: block RAM with the weights in the
bitstream, or a memory the host loads at run time (iCE40UP5K SPRAM).

Kinds (the ``kind`` argument):

* ``"rom"``: a read-only memory initialised with the weights (block RAM);
* ``"ram"``: the same memory without initial contents and with a write port,
  loaded through ``wr_*`` (used in simulation and on devices without SPRAM);
* ``"spram"``: ``SB_SPRAM256KA`` instances (iCE40UP5K: four of 16K x 16 bit),
  ``ceil(width / 16)`` side by side and ``ceil(depth / 16384)`` deep. SPRAM
  cannot be initialised by the bitstream, so the host loads it (WEIGHTS
  frames, :mod:`snnhw.protocol.link`).

All kinds read synchronously: the word at ``rd_addr`` is on ``rd_data`` the
next cycle. A write (``wr_en``) takes the single SPRAM port, so a read in the
same cycle returns garbage: load only while the array is idle (the host link
clears the network before it loads).
"""

from __future__ import annotations

import math

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Mux, Signal, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ._checks import reject

__all__ = ["WeightStore", "KINDS", "SPRAM_DEPTH", "SPRAM_WIDTH", "spram_units"]

KINDS = ("rom", "ram", "spram")
SPRAM_DEPTH, SPRAM_WIDTH = 16384, 16


def spram_units(depth: int, width: int) -> int:
    """SB_SPRAM256KA blocks a ``depth`` x ``width`` memory takes."""
    return math.ceil(width / SPRAM_WIDTH) * math.ceil(depth / SPRAM_DEPTH)


class WeightStore(wiring.Component):
    """A ``depth`` x ``width`` weight memory of ``kind`` (see the module docstring);
    ``init`` (a list of words) is required for ``"rom"`` and ignored otherwise.

    ``BANK_WORDS``: words used of each SPRAM block (all 16384 of them; a test
    lowers it to exercise the bank select on a small memory).
    """

    BANK_WORDS = SPRAM_DEPTH

    def __init__(self, *, depth: int, width: int, kind: str = "rom", init=None):
        if kind not in KINDS:
            reject(self, f"weight store kind must be one of {KINDS}, got {kind!r}")
        if kind == "rom" and init is None:
            reject(self, "a 'rom' weight store needs its initial contents")
        self.depth, self.width, self.kind = depth, width, kind
        self.init = list(init) if init is not None else []
        aw = max(depth - 1, 1).bit_length()
        super().__init__({
            "rd_addr": In(aw), "rd_data": Out(width),
            "wr_en": In(1), "wr_addr": In(aw), "wr_data": In(width),
        })

    @property
    def loadable(self) -> bool:
        return self.kind != "rom"

    def elaborate(self, platform):
        m = Module()
        if self.kind == "spram":
            self._spram(m)
            return m
        m.submodules.mem = mem = memory.Memory(
            shape=unsigned(self.width), depth=self.depth,
            init=self.init if self.kind == "rom" else [])
        rd = mem.read_port()
        m.d.comb += [rd.addr.eq(self.rd_addr), self.rd_data.eq(rd.data)]
        if self.kind == "ram":
            wr = mem.write_port()
            m.d.comb += [wr.en.eq(self.wr_en), wr.addr.eq(self.wr_addr),
                         wr.data.eq(self.wr_data)]
        return m

    def _spram(self, m):
        cols = math.ceil(self.width / SPRAM_WIDTH)
        bank_bits = self.BANK_WORDS.bit_length() - 1
        if not 1 <= bank_bits <= 14 or (1 << bank_bits) != self.BANK_WORDS:
            reject(self, f"BANK_WORDS must be a power of two up to {SPRAM_DEPTH}")
        banks = math.ceil(self.depth / self.BANK_WORDS)
        addr = Signal(len(self.rd_addr))
        m.d.comb += addr.eq(Mux(self.wr_en, self.wr_addr, self.rd_addr))
        data_in = Signal(cols * SPRAM_WIDTH)
        m.d.comb += data_in.eq(self.wr_data)
        bank = addr[bank_bits:] if banks > 1 else 0
        a14 = Signal(14)
        m.d.comb += a14.eq(addr[:bank_bits])
        outs = []
        for b in range(banks):
            words = []
            for c in range(cols):
                dout = Signal(SPRAM_WIDTH, name=f"spram{b}_{c}_out")
                m.submodules[f"spram{b}_{c}"] = Instance(
                    "SB_SPRAM256KA",
                    i_ADDRESS=a14, i_DATAIN=data_in[c * SPRAM_WIDTH:(c + 1) * SPRAM_WIDTH],
                    i_MASKWREN=0b1111, i_WREN=self.wr_en & (bank == b), i_CHIPSELECT=1,
                    i_CLOCK=ClockSignal(), i_STANDBY=0, i_SLEEP=0, i_POWEROFF=1,
                    o_DATAOUT=dout)
                words.append(dout)
            outs.append(Cat(*words))
        if banks == 1:
            m.d.comb += self.rd_data.eq(outs[0])
            return
        sel = Signal(range(banks))  # the bank read last cycle: its output is the data
        m.d.sync += sel.eq(bank)
        with m.Switch(sel):
            for b, word in enumerate(outs):
                with m.Case(b):
                    m.d.comb += self.rd_data.eq(word)
