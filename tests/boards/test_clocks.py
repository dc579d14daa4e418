"""PLL settings against the published outputs of icepll / ecppll, and PLL tops that plan."""

import numpy as np
import pytest

from snnboards.build import clock_config
from snnboards.platforms import board
from snnboards.top import BoardTop
from snnhw.families import ClockError
from snnhw.families.ecp5 import pll_ecp5
from snnhw.families.gowin import pll_gowin
from snnhw.families.ice40 import pll_ice40
from snnhw.ir.examples import random_network


@pytest.mark.parametrize("f_out, divr, divf, divq, filt", [
    # `icepll -i 12 -o F` as printed in public iCEBreaker projects
    (30e6, 0, 79, 5, 1), (42e6, 0, 55, 4, 1), (48e6, 0, 63, 4, 1),
])
def test_ice40_matches_icepll(f_out, divr, divf, divq, filt):
    cfg = pll_ice40(12e6, f_out)
    assert cfg.params == {"DIVR": divr, "DIVF": divf, "DIVQ": divq, "FILTER_RANGE": filt}
    assert cfg.f_out == f_out
    assert cfg.f_vco == 12e6 / (divr + 1) * (divf + 1)


@pytest.mark.parametrize("f_out, idiv, fbdiv, odiv", [
    # `ecppll -i 25 -o F` as printed in public ULX3S projects
    (50e6, 1, 2, 12), (120e6, 5, 24, 5), (137.5e6, 2, 11, 4), (168.75e6, 4, 27, 4),
])
def test_ecp5_matches_ecppll(f_out, idiv, fbdiv, odiv):
    cfg = pll_ecp5(25e6, f_out)
    assert (cfg.params["CLKI_DIV"], cfg.params["CLKFB_DIV"], cfg.params["CLKOP_DIV"]) == \
        (idiv, fbdiv, odiv)
    assert cfg.f_out == pytest.approx(f_out)
    assert 400e6 <= cfg.f_vco <= 800e6


def test_nearest_frequency_and_limits():
    cfg = pll_ice40(12e6, 31e6)       # not exactly reachable: the nearest, within 1 %
    assert abs(cfg.f_out - 31e6) < 0.01 * 31e6 and 533e6 <= cfg.f_vco <= 1066e6
    with pytest.raises(ClockError, match=r"outside 16\.\.275 MHz"):
        pll_ice40(12e6, 500e6)
    with pytest.raises(ClockError, match=r"outside 3\.125\.\.400 MHz"):
        pll_ecp5(25e6, 1e9)
    assert clock_config(board("icebreaker"), None) is None
    assert clock_config(board("icebreaker"), 12) is None      # the oscillator's own rate


@pytest.mark.parametrize("device, f_out, idiv, fbdiv, odiv", [
    # Apicula's `gowin_pll -i 27 -o F -d DEVICE` (an independent implementation)
    ("GW1NR-9C", 54e6, 0, 1, 8), ("GW1NR-9C", 81e6, 0, 2, 8), ("GW1NR-9C", 100e6, 6, 25, 4),
    ("GW2A-18C", 81e6, 0, 2, 8), ("GW2A-18C", 100e6, 6, 25, 8),
])
def test_gowin_matches_gowin_pll(device, f_out, idiv, fbdiv, odiv):
    cfg = pll_gowin(27e6, f_out, device)
    assert (cfg.params["IDIV_SEL"], cfg.params["FBDIV_SEL"], cfg.params["ODIV_SEL"]) == \
        (idiv, fbdiv, odiv)
    assert cfg.f_out == pytest.approx(27e6 * (fbdiv + 1) / (idiv + 1))
    with pytest.raises(ClockError, match="no rPLL limits for Gowin device 'GW9'"):
        pll_gowin(27e6, f_out, "GW9")


@pytest.mark.parametrize("name, mhz, prim, param", [
    ("icebreaker", 30, "SB_PLL40_PAD", "DIVF"), ("ulx3s", 125, "EHXPLLL", "CLKFB_DIV"),
    ("orangecrab", 96, "EHXPLLL", "CLKFB_DIV"), ("tang_nano_9k", 54, "rPLL", "FBDIV_SEL"),
    ("tang_primer_20k", 81, "rPLL", "FBDIV_SEL"),
])
def test_pll_top_plans(name, mhz, prim, param, tmp_path):
    rng = np.random.default_rng(0)
    net = random_network(rng, [8, 6, 3], in_bits=3, timesteps=2)
    spec = board(name)
    cfg = clock_config(spec, mhz)
    top = BoardTop(net, spec, lanes=2, pll=cfg)
    # the board's default rate at the PLL's clock (its USB bridge's fastest within 1 %)
    baud = spec.default_baud(cfg.f_out)
    assert top.clk_hz == cfg.f_out and top.linked.divisor == round(cfg.f_out / baud)
    assert abs(cfg.f_out / top.linked.divisor - baud) <= 0.01 * baud
    plan = spec.make_platform().build(top, name="snn_board", build_dir=str(tmp_path),
                                      do_build=False)
    il = plan.files["snn_board.il"]
    il = il if isinstance(il, str) else il.decode()
    assert f"cell \\{prim}" in il
    assert f"parameter \\{param} {cfg.params[param]}" in il
