"""Where a synapse array keeps its weights: block RAM with the weights in the
bitstream, or a memory the host loads at run time (iCE40UP5K SPRAM).

Kinds (the :class:`~snnhw.gateware.plan.MemorySpec`'s ``kind``):

* ``"rom"``: a read-only memory initialised with the weights (block RAM);
* ``"ram"``: the same memory without initial contents and with a write port,
  loaded through ``load`` (used in simulation and on devices without SPRAM);
* ``"spram"``: ``SB_SPRAM256KA`` instances (iCE40UP5K: four of 16K x 16 bit),
  ``ceil(width / 16)`` side by side and ``ceil(depth / bank_words)`` deep. A word of
  at most 8 bits shares a row with others (:func:`~snnhw.gateware.plan.spram_pack`:
  two of up to 8 bits, four of up to 4, each in its own nibbles): the low address
  bits pick the field, on a write through the row's nibble write mask (no
  read-modify-write), on a read by a multiplexer in front of the bank's register.
  SPRAM cannot be initialised by the bitstream, so the host loads it (WEIGHTS
  frames, :mod:`snnhw.protocol.link`).

Reads are pipelined two to four deep: the word at ``rd_addr`` is on
``rd_data`` :attr:`WeightStore.latency` cycles later
(:func:`~snnhw.gateware.plan.weight_latency`). A deep memory is split into
banks of ``bank_words`` words; every bank's read data lands in a register of
its own, with no logic in between, and only then does a multiplexer pick the
bank. A memory of more than :data:`~snnhw.gateware.plan.SELECT_FANIN` banks
(block RAM spread over the chip) picks in two steps with a register between:
within runs of ``SELECT_FANIN`` banks, then among the runs; one of more than
twice as many first registers each bank's output once more in the fabric
(the placer puts that register between its bank and the select, halving the
route). So no path runs
from a block RAM's output through the bank select: the block RAM's
clock-to-out (5.6 ns on ECP5 without its output register) ends in a register.
Where the family builds a ``"rom"`` from its block RAM primitives itself
(:meth:`~snnhw.families.base.Family.builds_rom`: ECP5's ``DP16KD``, 1024 x 18 or
2048 x 9 each, ``REGMODE_A = "OUTREG"``) the register is the block's own output
register, which Yosys's memory mapping never uses, so the whole read costs the
block's fast registered clock-to-out. Elsewhere (other families, simulation,
the exported Verilog) the banks are Amaranth memories and the registers are
flip-flops beside them; the cycle timing is the same. On a family without
bank registers (:attr:`~snnhw.families.base.Family.weight_bank_registers`: the
iCE40, whose clock leaves time for the select) a ``"rom"`` or ``"ram"`` store is
one memory that Yosys cuts into block RAMs and selects among after their outputs,
followed by ``latency - 1`` registers one word wide: the same cycles for a fraction
of the flip-flops (the banks' registers were 184 of the digits MLP's serial
design's 1,191). The read pipeline's
registers have no reset: they hold data that only counts ``latency`` cycles
after an address, and a reset net into each of them (the core's ``clear``
fans out to every resettable flip-flop) costs routing.

A write (``load.en``) takes the single SPRAM port, so a read in the same
cycle returns garbage: load only while the array is idle (the host link
clears the network before it loads).
"""

from __future__ import annotations

import math

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import memory
from amaranth.lib.wiring import In, Out

from ..families import of_platform
from ..families.ice40 import ICE40, SPRAM_WIDTH
from ._checks import CheckedComponent
from .collision import collision_free_read
from .plan import BANK_WORDS, SELECT_FANIN, SPRAM_DEPTH, MemorySpec, spram_pack, weight_latency
from .ports import WeightLoadPort
from .select import pick

__all__ = ["WeightStore", "SPRAM_DEPTH", "SPRAM_WIDTH", "spram_units", "BANK_WORDS",
           "spram_pack", "builds_rom"]


def builds_rom(fam, spec: MemorySpec) -> int | None:
    """Blocks of the weight ROM ``spec`` when family ``fam`` (or ``None``) builds it
    from its own block RAM primitives (:meth:`~snnhw.families.base.Family.builds_rom`),
    else ``None`` (the memory is left to Yosys)."""
    if fam is None or spec.kind != "rom":
        return None
    return fam.builds_rom(spec.depth, spec.width)


def spram_units(depth: int, width: int) -> int:
    """SB_SPRAM256KA blocks a ``depth`` x ``width`` memory takes (narrow words packed
    :func:`spram_pack` to a row)."""
    pack = spram_pack(width)
    if pack > 1:
        return math.ceil(math.ceil(depth / pack) / SPRAM_DEPTH)
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
    bank_words : int or None
        Words per bank (a power of two): by default all 16384 rows of an SPRAM
        block, or :data:`BANK_WORDS` of block RAM; fewer exercise the bank select
        on a small memory in simulation. For SPRAM it counts rows, each holding
        :func:`spram_pack` words. (A DP16KD bank is 1024 or 2048 words,
        :func:`dp16kd_shape`.)

    Ports
    -----
    rd_addr : In, rd_data : Out
        Pipelined read: the word is on ``rd_data`` :attr:`latency` cycles later.
    load : In(WeightLoadPort)
        Run-time writes (``"ram"``, ``"spram"``).
    """

    @classmethod
    def check(cls, spec: MemorySpec, *, init=None, bank_words: int | None = None) -> None:
        if spec.kind == "rom" and init is None:
            raise ValueError("a 'rom' weight store needs its initial contents")
        if bank_words is None:
            return
        bank_bits = bank_words.bit_length() - 1
        if not 1 <= bank_bits <= 14 or (1 << bank_bits) != bank_words:
            raise ValueError(f"bank_words must be a power of two from 2 to {SPRAM_DEPTH}, "
                             f"got {bank_words}")

    def __init__(self, spec: MemorySpec, *, init=None, bank_words: int | None = None):
        self.spec = spec
        if bank_words is None:
            bank_words = SPRAM_DEPTH if spec.kind == "spram" else BANK_WORDS
        self.bank_words = bank_words
        self.init = list(init) if init is not None else []
        aw = max(spec.depth - 1, 1).bit_length()
        super().__init__({
            "rd_addr": In(aw), "rd_data": Out(spec.width),
            "load": In(WeightLoadPort(aw, spec.width)),
        })

    @property
    def latency(self) -> int:
        """Read latency (:func:`~snnhw.gateware.plan.weight_latency`: from the spec at
        the default bank size, whatever ``bank_words``, so a design's cycles do not
        depend on how its banks are cut)."""
        return weight_latency(self.spec)

    @property
    def loadable(self) -> bool:
        return self.spec.kind != "rom"

    def banks(self, bank_words: int | None = None) -> int:
        return math.ceil(self.spec.depth / (bank_words or self.bank_words))

    def elaborate(self, platform):
        m = Module()
        fam = of_platform(platform)
        if self.spec.kind == "spram":
            outs, bank_words = self._spram(m), self.bank_words * spram_pack(self.spec.width)
        elif builds_rom(fam, self.spec) is not None:
            outs = self._rom_blocks(m, fam)
            bank_words = fam.rom_shape(self.spec.depth, self.spec.width)[0]
        elif fam is not None and not fam.weight_bank_registers:
            self._one_memory(m, platform, fam)
            return m
        else:
            outs, bank_words = self._banks(m, platform), self.bank_words
        self._select(m, outs, bank_words)
        return m

    def _select(self, m, outs, bank_words):
        """``rd_data``: the registered output of the bank addressed ``latency`` cycles
        ago; at latency 4 each bank's output is registered once more; at latency 3 and
        4 the banks are picked within runs of SELECT_FANIN into registers, then among
        the runs."""
        bank_bits = bank_words.bit_length() - 1
        bank = self.rd_addr[bank_bits:]
        sels = []
        for n in range(self.latency):
            sel = Signal(max(len(bank), 1), name=f"bank{n + 1}", reset_less=True)
            m.d.sync += sel.eq(bank if n == 0 else sels[-1])
            sels.append(sel)
        if self.latency == 4:
            near = []
            for b, out in enumerate(outs):
                reg = Signal(self.spec.width, name=f"bank{b}_near", reset_less=True)
                m.d.sync += reg.eq(out)
                near.append(reg)
            outs = near
        if self.latency >= 3:
            runs = []
            for r in range(0, len(outs), SELECT_FANIN):
                reg = Signal(self.spec.width, name=f"run{r // SELECT_FANIN}_q", reset_less=True)
                m.d.sync += reg.eq(pick(m, outs[r:r + SELECT_FANIN], sels[-2] % SELECT_FANIN,
                                         f"run{r // SELECT_FANIN}_pick"))
                runs.append(reg)
            outs, sel = runs, sels[-1] // SELECT_FANIN
        else:
            sel = sels[-1]
        m.d.comb += self.rd_data.eq(pick(m, outs, sel, "bank_pick"))

    def _one_memory(self, m, platform, fam):
        """The whole store as one memory in columns of
        :meth:`~snnhw.families.base.Family.weight_columns` (the synthesis tool cuts
        each into block RAMs and selects among them after their outputs), then
        ``latency - 1`` registers."""
        columns = fam.weight_columns(self.spec.depth, self.spec.width)
        parts, lo = [], 0
        for n, bits in enumerate(columns):
            init = ([(w >> lo) & ((1 << bits) - 1) for w in self.init]
                    if self.spec.kind == "rom" else [])
            mem = memory.Memory(shape=unsigned(bits), depth=self.spec.depth, init=init)
            m.submodules["mem" if len(columns) == 1 else f"mem_col{n}"] = mem
            rd = mem.read_port()
            m.d.comb += rd.addr.eq(self.rd_addr)
            data = rd.data
            if self.spec.kind == "ram":
                wr = mem.write_port()
                m.d.comb += [wr.en.eq(self.load.en), wr.addr.eq(self.load.addr),
                             wr.data.eq(self.load.data[lo:lo + bits])]
                data = collision_free_read(m, mem, rd, wr, platform)   # loaded while idle
            parts.append(data)
            lo += bits
        data = Cat(*parts)
        for n in range(self.latency - 1):
            reg = Signal(self.spec.width, name=f"delay{n + 1}", reset_less=True)
            m.d.sync += reg.eq(data)
            data = reg
        m.d.comb += self.rd_data.eq(data)

    def _banks(self, m, platform):
        """Amaranth memories of ``bank_words`` words, each read into a register."""
        bw = self.bank_words
        bank_bits = bw.bit_length() - 1
        outs = []
        for b in range(self.banks()):
            depth = min(bw, self.spec.depth - b * bw)
            init = self.init[b * bw:(b + 1) * bw] if self.spec.kind == "rom" else []
            mem = memory.Memory(shape=unsigned(self.spec.width), depth=depth, init=init)
            m.submodules["mem" if self.banks() == 1 else f"mem{b}"] = mem
            rd = mem.read_port()
            m.d.comb += rd.addr.eq(self.rd_addr[:bank_bits] if self.banks() > 1
                                   else self.rd_addr)
            reg = Signal(self.spec.width, name=f"bank{b}_q", reset_less=True)
            data = rd.data
            if self.spec.kind == "ram":
                wr = mem.write_port()
                hit = (self.load.addr[bank_bits:] == b) if self.banks() > 1 else 1
                m.d.comb += [wr.en.eq(self.load.en & hit),
                             wr.addr.eq(self.load.addr[:bank_bits] if self.banks() > 1
                                        else self.load.addr),
                             wr.data.eq(self.load.data)]
                # the host loads while the core is idle
                data = collision_free_read(m, mem, rd, wr, platform)
            m.d.sync += reg.eq(data)
            outs.append(reg)
        return outs

    def _rom_blocks(self, m, fam):
        """Block RAM primitives of ``fam`` (:meth:`~snnhw.families.base.Family.rom_block`:
        read-only, output register on)."""
        depth, width = fam.rom_shape(self.spec.depth, self.spec.width)
        cols = math.ceil(self.spec.width / width)
        outs = []
        for b in range(self.banks(depth)):
            words = self.init[b * depth:(b + 1) * depth]
            parts = []
            for c in range(cols):
                col = [(w >> (c * width)) & ((1 << width) - 1) for w in words]
                parts.append(fam.rom_block(m, f"bram{b}_{c}", self.rd_addr, width=width,
                                           init=col))
            word = Signal(self.spec.width, name=f"bank{b}_q")
            m.d.comb += word.eq(Cat(*parts))
            outs.append(word)
        return outs

    def _spram(self, m):
        width, pack = self.spec.width, spram_pack(self.spec.width)
        sub = pack.bit_length() - 1                  # address bits below the row
        field = SPRAM_WIDTH // pack
        cols = 1 if pack > 1 else math.ceil(width / SPRAM_WIDTH)
        bank_bits = self.bank_words.bit_length() - 1
        banks = math.ceil(math.ceil(self.spec.depth / pack) / self.bank_words)
        addr = Signal(len(self.rd_addr))
        m.d.comb += addr.eq(Mux(self.load.en, self.load.addr, self.rd_addr))
        row = addr[sub:]
        data_in = Signal(cols * SPRAM_WIDTH)
        mask = Signal(4)
        if pack > 1:
            # the word in every field; the nibble mask writes only the addressed one
            m.d.comb += data_in.eq(Cat(*[self.load.data[:width], Const(0, field - width)]
                                       * pack))
            nibbles = field // 4
            with m.Switch(addr[:sub]):
                for k in range(pack):
                    with m.Case(k):
                        m.d.comb += mask.eq(((1 << nibbles) - 1) << (k * nibbles))
        else:
            m.d.comb += [data_in.eq(self.load.data), mask.eq(0b1111)]
        bank = row[bank_bits:] if banks > 1 else 0
        a14 = Signal(14)
        m.d.comb += a14.eq(row[:bank_bits])
        # the field of the word read: the SPRAM's output comes one cycle after its address
        field_q = Signal(max(sub, 1), name="field_q", reset_less=True)
        m.d.sync += field_q.eq(self.rd_addr[:sub] if sub else 0)
        outs = []
        for b in range(banks):
            words = []
            for c in range(cols):
                dout = Signal(SPRAM_WIDTH, name=f"spram{b}_{c}_out")
                m.submodules[f"spram{b}_{c}"] = ICE40.spram_block(
                    address=a14, data_in=data_in[c * SPRAM_WIDTH:(c + 1) * SPRAM_WIDTH],
                    mask=mask, write=self.load.en & (bank == b), data_out=dout)
                words.append(dout)
            reg = Signal(width, name=f"bank{b}_q", reset_less=True)
            if pack > 1:
                fields = [words[0][k * field:k * field + width] for k in range(pack)]
                m.d.sync += reg.eq(pick(m, fields, field_q, f"bank{b}_field"))
            else:
                m.d.sync += reg.eq(Cat(*words))
            outs.append(reg)
        return outs
