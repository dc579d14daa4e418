"""Where a synapse array keeps its weights: block RAM with the weights in the
bitstream, or a memory the host loads at run time (iCE40UP5K SPRAM).

Kinds (the :class:`~snnhw.gateware.plan.MemorySpec`'s ``kind``):

* ``"rom"``: a read-only memory initialised with the weights (block RAM);
* ``"ram"``: the same memory without initial contents and with a write port,
  loaded through ``load`` (used in simulation and on devices without SPRAM);
* ``"spram"``: ``SB_SPRAM256KA`` instances (iCE40UP5K: four of 16K x 16 bit),
  ``ceil(width / 16)`` side by side and ``ceil(depth / bank_words)`` deep. SPRAM
  cannot be initialised by the bitstream, so the host loads it (WEIGHTS
  frames, :mod:`snnhw.protocol.link`).

All kinds read synchronously: the word at ``rd_addr`` is on ``rd_data`` the
next cycle. A write (``load.en``) takes the single SPRAM port, so a read in the
same cycle returns garbage: load only while the array is idle (the host link
clears the network before it loads).
"""

from __future__ import annotations

import math

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Mux, Signal, unsigned
from amaranth.lib import memory
from amaranth.lib.wiring import In, Out

from ._checks import CheckedComponent
from .plan import MemorySpec
from .ports import WeightLoadPort

__all__ = ["WeightStore", "SPRAM_DEPTH", "SPRAM_WIDTH", "spram_units"]

SPRAM_DEPTH, SPRAM_WIDTH = 16384, 16


def spram_units(depth: int, width: int) -> int:
    """SB_SPRAM256KA blocks a ``depth`` x ``width`` memory takes."""
    return math.ceil(width / SPRAM_WIDTH) * math.ceil(depth / SPRAM_DEPTH)


class WeightStore(CheckedComponent):
    """The weight memory described by ``spec`` (see the module docstring).

    Parameters
    ----------
    spec : MemorySpec
        Depth, width and kind.
    init : list of int
        The words (:func:`snnhw.protocol.words.weight_words`); required for
        ``"rom"``, ignored otherwise.
    bank_words : int
        Words used of each SPRAM block: all 16384 of them, or fewer (a power of
        two) to exercise the bank select on a small memory in simulation.

    Ports
    -----
    rd_addr : In, rd_data : Out
        Synchronous read (one cycle).
    load : In(WeightLoadPort)
        Run-time writes (``"ram"``, ``"spram"``).
    """

    @classmethod
    def check(cls, spec: MemorySpec, *, init=None, bank_words: int = SPRAM_DEPTH) -> None:
        if spec.kind == "rom" and init is None:
            raise ValueError("a 'rom' weight store needs its initial contents")
        bank_bits = bank_words.bit_length() - 1
        if not 1 <= bank_bits <= 14 or (1 << bank_bits) != bank_words:
            raise ValueError(f"bank_words must be a power of two from 2 to {SPRAM_DEPTH}, "
                             f"got {bank_words}")

    def __init__(self, spec: MemorySpec, *, init=None, bank_words: int = SPRAM_DEPTH):
        self.spec, self.bank_words = spec, bank_words
        self.init = list(init) if init is not None else []
        aw = max(spec.depth - 1, 1).bit_length()
        super().__init__({
            "rd_addr": In(aw), "rd_data": Out(spec.width),
            "load": In(WeightLoadPort(aw, spec.width)),
        })

    @property
    def loadable(self) -> bool:
        return self.spec.kind != "rom"

    def elaborate(self, platform):
        m = Module()
        if self.spec.kind == "spram":
            self._spram(m)
            return m
        m.submodules.mem = mem = memory.Memory(
            shape=unsigned(self.spec.width), depth=self.spec.depth,
            init=self.init if self.spec.kind == "rom" else [])
        rd = mem.read_port()
        m.d.comb += [rd.addr.eq(self.rd_addr), self.rd_data.eq(rd.data)]
        if self.spec.kind == "ram":
            wr = mem.write_port()
            m.d.comb += [wr.en.eq(self.load.en), wr.addr.eq(self.load.addr),
                         wr.data.eq(self.load.data)]
        return m

    def _spram(self, m):
        cols = math.ceil(self.spec.width / SPRAM_WIDTH)
        bank_bits = self.bank_words.bit_length() - 1
        banks = math.ceil(self.spec.depth / self.bank_words)
        addr = Signal(len(self.rd_addr))
        m.d.comb += addr.eq(Mux(self.load.en, self.load.addr, self.rd_addr))
        data_in = Signal(cols * SPRAM_WIDTH)
        m.d.comb += data_in.eq(self.load.data)
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
                    i_MASKWREN=0b1111, i_WREN=self.load.en & (bank == b), i_CHIPSELECT=1,
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
