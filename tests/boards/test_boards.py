"""Board tops: plans for every board without tools, estimate and fit check, and one real
iCE40 build of the default digits network (the CI build)."""

import json

import numpy as np
import pytest
import torch

from snnboards.build import BuildError, build, synth_options
from snnboards.estimate import (
    LC_CALIBRATION,
    PIPELINE_TERMS,
    SERIAL_LC_CALIBRATION,
    SERIAL_LOGIC,
    SERIAL_TERMS,
    bram_blocks,
    check_fit,
    estimate,
    lc_features,
    serial_lc_features,
)
from snnboards.platforms import BOARDS, board
from snnboards.top import BoardTop
from snnhw.cli import main
from snnhw.data import load_digits_split
from snnhw.families import of_platform
from snnhw.families.ice40 import DENSE_SHARE, ICE40, MIN_CE_USE
from snnhw.ir import save
from snnhw.ir.examples import cnn_shaped, random_network
from snnhw.nn.export import export_model
from snnhw.nn.train import TrainConfig, train


@pytest.fixture(scope="module")
def digits_net():
    torch.manual_seed(0)
    model, _ = train(TrainConfig(), load_digits_split(), progress=False)
    return export_model(model, name="digits")[1]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_board_plans_without_tools(name, digits_net, tmp_path):
    spec = board(name)
    plan = spec.make_platform().build(BoardTop(digits_net, spec, lanes=[2, 1]), name="snn_board",
                                      build_dir=str(tmp_path), do_build=False)
    files = plan.files
    constraints = next(v for k, v in files.items() if k.endswith((".pcf", ".lpf", ".cst")))
    text = constraints if isinstance(constraints, str) else constraints.decode()
    assert "uart" in text and "snn_board.il" in files


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_the_gateware_knows_each_boards_family_from_its_platform(name):
    """What the gateware builds per family (LUT RAM, its own ROM blocks, one weight
    memory on the iCE40) hangs on this: Amaranth names the iCE40 "iCE40"."""
    spec = board(name)
    assert of_platform(spec.make_platform()) is spec.family


@pytest.mark.parametrize("name, mhz, baud", [
    ("icebreaker", None, 3_000_000), ("icebreaker", 30, 3_000_000),
    ("ulx3s", None, 1_000_000), ("ulx3s", 100, 2_000_000), ("orangecrab", None, 115_200),
    ("tang_nano_9k", None, 1_000_000), ("tang_primer_20k", None, 1_000_000),
])
def test_each_board_talks_at_the_fastest_rate_its_bridge_and_clock_allow(name, mhz, baud):
    """The default rate: the first of the board's bridge rates that the design clock makes
    within 1 % with at least 4 cycles a bit (the tops' UART divisors are made from it:
    tests/boards/test_clocks.py)."""
    spec = board(name)
    clk = spec.clk_hz if mhz is None else mhz * 1e6
    assert spec.default_baud(clk) == baud
    faster = [b for b in spec.bauds if b > baud]
    assert all(round(clk / b) < 4 or abs(clk / round(clk / b) - b) > 0.01 * b for b in faster)


def test_the_build_report_says_the_uart_rate():
    from snnboards.build import format_report

    r = {"board": "icebreaker", "description": "iCEBreaker", "luts": 1, "ffs": 2,
         "resources": {"lc": {"used": 3, "available": 5280}}, "clocks": {},
         "pll": {"DIVR": 0}, "board_clock_mhz": 12.0, "clock_mhz": 30.0, "baud": 3_000_000,
         "dsp_used": 0, "build_seconds": 1.0, "bitstream": "x.bin", "weights_loaded": []}
    assert ("design clock 30 MHz (PLL from 12 MHz); UART 3,000,000 baud (the host takes "
            "the rate from this folder's build_report.json)") in format_report(r)


def test_bram_shapes():
    assert bram_blocks(1024, 64, "ice40") == 16      # 64 Kbit = 16 x 4 Kbit
    assert bram_blocks(768, 8, "ice40") == 2         # 512x8 twice
    assert bram_blocks(10, 16, "ice40") == 1
    assert bram_blocks(2, 128, "ice40") == 0         # two words: logic
    assert bram_blocks(64, 32, "ice40", rom=True) == 0   # small ROM: logic
    assert bram_blocks(4096, 16, "ice40", rom=True) == 16
    assert bram_blocks(1024, 18, "ecp5") == 1 and bram_blocks(1024, 36, "ecp5") == 2
    assert bram_blocks(65, 13, "ecp5") == 0 and bram_blocks(64, 32, "ecp5") == 1
    # Gowin BSRAM: the same 18-Kbit shapes, cost and LUT RAM rule as ECP5's
    assert bram_blocks(1024, 18, "gowin") == 1 and bram_blocks(1024, 36, "gowin") == 2
    assert bram_blocks(65, 13, "gowin") == 0 and bram_blocks(64, 32, "gowin") == 1


def test_ecp5_estimate_matches_the_measured_ulx3s_build(digits_net):
    # measured: the same design on ULX3S-85F used 6 DP16KD (see the estimate's docstring):
    # the weights (4 + 1, built as DP16KD) and the frame buffer; accumulators and
    # membranes are LUT RAM
    est = estimate(digits_net, "ulx3s", lanes=[2, 1])
    assert est["bram"] == 6
    assert {m["name"]: m["blocks"] for m in est["memories"] if m["blocks"]} == {
        "core.layer0.syn.weights.mem": 4, "core.layer1.syn.weights.mem": 1,
        "link.receiver.buf": 1}


def test_does_not_fit_names_the_resource(digits_net, tmp_path):
    with pytest.raises(BuildError, match=r"does not fit icebreaker: bram: needs 61, the device "
                                         r"has 30 \(31 too many"):
        build(digits_net, "icebreaker", lanes=16, out_dir=tmp_path)


def test_estimate_cli(digits_net, tmp_path, capsys):
    path = save(digits_net, tmp_path / "d.snn")
    assert main(["estimate", str(path), "--board", "icebreaker", "--lanes", "2,1",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["bram"] == 28 and d["dsp"] == 0 and d["cycles_per_inference"] > 0


def test_real_icebreaker_build(digits_net, tmp_path):
    """The CI build: fits, 0 DSP, timing met at 30 MHz from the PLL; estimate checked."""
    r = build(digits_net, "icebreaker", lanes=[2, 1], out_dir=tmp_path, clock_mhz=30)
    assert r["fits"] and r["bitstream"] and (tmp_path / "snn_board.bin").stat().st_size > 100_000
    assert r["dsp_used"] == 0
    assert r["pll"] == {"DIVR": 0, "DIVF": 79, "DIVQ": 5, "FILTER_RANGE": 1, "f_vco_mhz": 960.0}
    assert r["clock_mhz"] == 30.0 and len(r["clocks"]) == 1
    (clock,) = r["clocks"].values()
    assert clock["target_mhz"] >= 30.0 and clock["fmax_mhz"] >= 30.0 and r["timing_met"]
    est = estimate(digits_net, "icebreaker", lanes=[2, 1])
    assert r["resources"]["bram"]["used"] == est["bram"]                 # exact
    lc = r["resources"]["lc"]["used"]
    assert abs(est["lc"] - lc) <= 0.15 * lc                               # stated tolerance
    assert r["resources"]["lc"]["used"] <= r["resources"]["lc"]["available"]
    assert json.loads((tmp_path / "build_report.json").read_text())["ir_hash"] == \
        digits_net.content_hash()
    assert r["synth_opts"] == ""           # about 53 % of the UP5K: the default packing
    assert r["baud"] == 3_000_000          # the FT2232H's 3 Mbaud: 10 cycles a bit at 30 MHz


def test_real_gowin_build(digits_net, tmp_path):
    """The Gowin CI build: the digits design on the Tang Nano 9K from the rPLL at 54 MHz
    (nextpnr Himbaechel, gowin_pack): a bitstream, 0 DSP, timing met, block RAM exactly
    as estimated, logic within 15 %."""
    r = build(digits_net, "tang_nano_9k", lanes=[2, 1], out_dir=tmp_path, clock_mhz=54)
    assert r["bitstream"] and (tmp_path / "snn_board.fs").stat().st_size > 100_000
    assert r["dsp_used"] == 0 and r["timing_met"]
    assert r["pll"] == {"IDIV_SEL": 0, "FBDIV_SEL": 1, "ODIV_SEL": 8, "DEVICE": "GW1NR-9C",
                        "f_vco_mhz": 432.0}
    (clock,) = r["clocks"].values()
    assert clock["target_mhz"] == 54 and clock["fmax_mhz"] >= 54
    est = estimate(digits_net, "tang_nano_9k", lanes=[2, 1])
    assert r["resources"]["bram"]["used"] == est["bram"]                 # exact
    lc = r["resources"]["lc"]["used"]
    assert abs(est["lc"] - lc) <= 0.15 * lc


def test_dense_ice40_designs_fold_small_clock_enables():
    ice, ecp = board("icebreaker"), board("ulx3s")
    cap = ice.capacity["lc"]
    edge = int(DENSE_SHARE * cap)
    assert synth_options(ice, {"lc": edge - 1}) == ""
    assert synth_options(ice, {"lc": edge + 1}) == f"-dffe_min_ce_use {MIN_CE_USE}"
    assert synth_options(ecp, {"lc": 10 * ecp.capacity["lc"]}) == ""   # ECP5 slices differ


@pytest.fixture(scope="module")
def mnist_net():
    return random_network(np.random.default_rng(7), [784, 128, 10], in_bits=8, timesteps=4,
                          spike_bits=2, w_bits=8, u_bits=16, name="784-128-10")


def test_weights_go_to_spram_when_block_ram_is_short(mnist_net, digits_net):
    # 784-128-10 at lanes [4, 1]: 784 x 32 groups = 25088 words of 32 bits -> 2 x 2 SPRAM
    est = estimate(mnist_net, "icebreaker", lanes=[4, 1])
    assert est["weights"] == {"0": "spram"} and est["spram"] == 4
    # measured (snnhw build out/mnist.snn --board icebreaker --lanes 4,1 --clock-mhz 30):
    # 20 SB_RAM40_4K, 4 SPRAM
    assert est["bram"] == 20
    # digits fits block RAM: auto leaves it there; spram moves what fits
    assert estimate(digits_net, "icebreaker", lanes=[2, 1])["weights"] == {}
    assert estimate(digits_net, "icebreaker", lanes=[2, 1], weights="spram")["weights"] == {
        "0": "spram", "1": "spram"}


def test_weights_placement_errors(mnist_net, tmp_path):
    # all in block RAM: 25088 x 32 bits, one memory on the iCE40, which Yosys stacks
    # from 1024 x 4-bit blocks: 25 deep, 8 wide = 200 blocks, plus the 20 of the rest
    with pytest.raises(BuildError, match=r"does not fit icebreaker: bram: needs 220"):
        build(mnist_net, "icebreaker", lanes=[4, 1], weights="bram", out_dir=tmp_path)
    with pytest.raises(BuildError, match="ulx3s has no SPRAM"):
        estimate(mnist_net, "ulx3s", lanes=[4, 1], weights="spram")
    # lanes 16 x 8 bits = 128-bit words: too wide for the load port, stays in block RAM
    with pytest.raises(BuildError, match="bram: needs"):
        build(mnist_net, "icebreaker", lanes=[16, 1], out_dir=tmp_path)


def test_estimate_cli_weights(mnist_net, tmp_path, capsys):
    path = save(mnist_net, tmp_path / "m.snn")
    assert main(["estimate", str(path), "--board", "icebreaker", "--lanes", "4,1"]) == 0
    out = capsys.readouterr().out
    assert "SPRAM 4 of 4" in out and "block RAM 20 of 30" in out
    assert main(["estimate", str(path), "--board", "ulx3s", "--weights", "spram"]) == 2
    assert "ulx3s has no SPRAM" in capsys.readouterr().err


def test_a_design_that_does_not_fit_says_so_and_leaves_no_folder(mnist_net, tmp_path, capsys):
    path = save(mnist_net, tmp_path / "m.snn")
    assert main(["estimate", str(path), "--board", "icebreaker", "--lanes", "16,1",
                 "--weights", "bram", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["fits"] is False and "bram: needs" in d["does_not_fit"]
    assert main(["estimate", str(path), "--board", "icebreaker", "--lanes", "16,1",
                 "--weights", "bram"]) == 1
    assert "does not fit: the network does not fit icebreaker" in capsys.readouterr().out
    out = tmp_path / "never"
    assert main(["build", str(path), "--board", "icebreaker", "--lanes", "16,1", "--weights",
                 "bram", "-o", str(out)]) == 2
    assert "bram: needs" in capsys.readouterr().err and not out.exists()


def test_tool_error_names_the_tools_reason(tmp_path):
    from snnboards.build import tool_error

    assert tool_error(tmp_path) is None
    (tmp_path / "snn_board.rpt").write_text("Yosys log\nnothing wrong\n")
    (tmp_path / "snn_board.tim").write_text(
        "Info: Running main analytical placer\nERROR: Unable to find legal placement for all "
        "cells, design is probably at utilisation limit.\n0 warnings, 1 error\n")
    assert tool_error(tmp_path) == ("ERROR: Unable to find legal placement for all cells, "
                                    "design is probably at utilisation limit.")


def test_auto_core_takes_the_pipeline_when_it_fits_else_the_serial_core():
    # ten layers of 32: the pipeline core needs a processing element each (about
    # 11,000 cells, 51 block RAMs), the serial core one
    deep = random_network(np.random.default_rng(0), [32] * 9 + [10], in_bits=4, timesteps=2,
                          spike_bits=2)
    e = estimate(deep, "icebreaker", lanes=2, core="auto")
    assert e["core"] == "serial" and "pipeline core does not fit" in e["core_reason"]
    assert e["lc"] < 5280 and e["bram"] <= 30
    small = random_network(np.random.default_rng(0), [16, 12, 4])
    e = estimate(small, "icebreaker", lanes=2, core="auto")
    assert e["core"] == "pipeline" and e["core_reason"] == "the pipeline core fits"


@pytest.mark.parametrize("core", ["pipeline", "serial"])
def test_logic_models_are_the_fits_of_their_designs(core):
    """Each core's iCE40 logic model is the non-negative least-squares fit of the designs
    listed beside it (to its two decimals), and the terms stored there are the plan's."""
    from scipy.optimize import nnls

    if core == "serial":
        table, model = SERIAL_LC_CALIBRATION, [SERIAL_LOGIC[k] for k in SERIAL_TERMS]
    else:
        table, model = LC_CALIBRATION, [getattr(ICE40.logic, k) for k in PIPELINE_TERMS]
    feats = np.array([row[3] for row in table], dtype=float)
    cells = np.array([row[4] for row in table], dtype=float)
    assert np.allclose(nnls(feats, cells)[0], model, atol=0.006)
    # the 784-128-10 rows' terms, from the seeded networks bench/fmax.py builds
    w4 = core == "serial"
    net = random_network(np.random.default_rng(0 if w4 else 7), [784, 128, 10], in_bits=8,
                         timesteps=4, spike_bits=2, w_bits=4 if w4 else 8, u_bits=16)
    rows = [r for r in table if r[0].startswith("784-128-10")]
    assert rows
    for _, lanes, weights, terms, _cells in rows:
        assert lc_features(net, "icebreaker", lanes=int(lanes), weights=weights,
                           core=core) == terms


def test_gowin_scale_rows_have_the_terms_of_the_ice40_designs():
    """The Gowin builds are designs of the iCE40 table (same network and lanes): their
    terms there, and the scale within 6 % of each build."""
    from snnhw.families import gowin

    ice40 = {(r[0], r[1]): r[3] for r in LC_CALIBRATION}
    for _, name, lanes, terms, cells in gowin.LC_CALIBRATION:
        assert ice40[(name, lanes)] == terms
        assert abs(gowin.LOGIC_SCALE * ICE40.logic.cells(terms) - cells) <= 0.06 * cells


def test_gowin_serial_scale_fits_its_builds():
    """The serial core's Gowin scale: within 15 % of each Gowin build; the 784-128-10
    row's terms are the estimate's on that board (weights in BSRAM: not loaded)."""
    from snnboards.estimate import GOWIN_SERIAL_LC_CALIBRATION, SERIAL_LOGIC_SCALE, _serial_model
    from snnhw.families.gowin import GOWIN

    scale = SERIAL_LOGIC_SCALE[GOWIN.name]
    for *_, terms, cells in GOWIN_SERIAL_LC_CALIBRATION:
        assert abs(scale * _serial_model(terms) - cells) <= 0.15 * cells
    net = random_network(np.random.default_rng(0), [784, 128, 10], in_bits=8, timesteps=4,
                         spike_bits=2, w_bits=4, u_bits=16)
    (row,) = [r for r in GOWIN_SERIAL_LC_CALIBRATION if r[1] == "784-128-10-w4"]
    assert lc_features(net, row[0], lanes=int(row[2]), core="serial") == row[3]
    e = estimate(net, row[0], lanes=4, core="serial")
    assert e["lc"] == round(scale * _serial_model(row[3]))


def test_serial_logic_terms():
    """The serial model's terms: windowed for a conv layer, loaded for SPRAM weights."""
    from snnhw.gateware.serial import SerialPlan

    net = random_network(np.random.default_rng(0), [784, 128, 10], in_bits=8, timesteps=4,
                         spike_bits=2, w_bits=4, u_bits=16)
    plan = SerialPlan(net, 4, "spram")
    # lanes x (the accumulator, two 16-bit membranes, a 4-bit weight)
    lane_bits = 4 * (plan.acc_width + 2 * 16 + 4)
    assert serial_lc_features(plan) == (1, lane_bits, 0, 1)
    assert serial_lc_features(SerialPlan(net, 4)) == (1, lane_bits, 0, 0)
    cnn = cnn_shaped("mnist1d-cnn", 5)
    assert serial_lc_features(SerialPlan(cnn, 2))[2:] == (1, 0)


def test_serial_core_weights_go_to_spram_all_or_none():
    """784-128-10 with 4-bit weights: 12,800 words of 32 bits at lanes 8, far more than
    the UP5K's block RAM; in SPRAM they take two blocks side by side (16K rows), every
    layer, and the host loads them."""
    net = random_network(np.random.default_rng(0), [784, 128, 10], in_bits=8, timesteps=4,
                         spike_bits=2, w_bits=4, u_bits=16)
    e = estimate(net, "icebreaker", lanes=8, core="serial", density=0.19)
    assert e["weights"] == {"0": "spram", "1": "spram"} and e["spram"] == 2
    store = next(m for m in e["memories"] if m["role"] == "weights")
    assert (store["depth"], store["width"], store["kind"]) == (16 * 784 + 2 * 128, 32, "spram")
    assert e["bram"] <= 30
    with pytest.raises(BuildError, match="does not fit"):
        check_fit(estimate(net, "icebreaker", lanes=8, core="serial", weights="bram"),
                  board("icebreaker"))
    with pytest.raises(BuildError, match="has no SPRAM"):
        estimate(net, "ulx3s", lanes=8, core="serial", weights="spram")
    with pytest.raises(BuildError, match="17 lanes x 4 bits = 68 bits"):
        estimate(net, "icebreaker", lanes=17, core="serial", weights="spram")
