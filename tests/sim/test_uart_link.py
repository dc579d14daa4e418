"""The whole board path without a board: UART pins driven bit by bit with the host's own
encoder/decoder, real digits samples, corrupted, cut-off and back-to-back frames."""


import pytest
import torch

from snnhw.data import load_digits_split
from snnhw.gateware.generate import write_linked
from snnhw.nn.export import export_model
from snnhw.nn.model import encode
from snnhw.nn.train import TrainConfig, train
from snnhw.protocol.link import ErrorCode
from snntb.runner import run_case


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    torch.manual_seed(0)
    data = load_digits_split()
    model, _ = train(TrainConfig(sizes=(64, 24, 10), epochs=6), data, progress=False)
    _, net = export_model(model, name="digits-small")
    out = tmp_path_factory.mktemp("linked")
    # 1 MHz clock and 100 kbaud in simulation: 10 cycles per bit keeps it fast
    write_linked(net, [4, 2], out / "rtl", clk_hz=1e6, baud=100_000)
    x = encode(model.config, data.x_test[:5]).numpy()
    return net, x, out


def test_uart_board_path(sim, design):
    net, x, out = design
    r = run_case(net, x, rtl_dir=out / "rtl", sim=sim, work=out, name=f"uart-{sim}",
                 test_module="snntb.cocotb_link",
                 extra={"divisor": 10, "corrupt": [[1, 0], [3, 1]], "cut": [[2, 0]]})
    rep = r.report
    assert rep.get("problems") == [] and rep.get("decoder_errors") == [], rep
    # bad CRC, cut off, bad CRC: all rejected
    assert rep["errors_seen"] == [ErrorCode.BAD_CRC, ErrorCode.CUT_OFF, ErrorCode.BAD_CRC]
    assert len(rep["results"]) == len(x)          # one result per sample, none from bad frames
    assert r.ok and r.failed == 0


@pytest.fixture(scope="module")
def spram_design(design, tmp_path_factory):
    """Layer 0's weights in SB_SPRAM256KA (Yosys's own simulation model), in banks of 256
    words so that the 384-word memory spans two banks (the bank select is exercised)."""
    net, x, _ = design
    out = tmp_path_factory.mktemp("spram")
    _, _, man = write_linked(net, [4, 2], out / "rtl", clk_hz=1e6, baud=100_000,
                             weights={0: "spram"}, bank_words=256)
    text = (out / "rtl" / "snn_linked.v").read_text()
    assert text.count("SB_SPRAM256KA ") == 4 and man["weights_loaded"] == [0]
    return net, x[:3], out


@pytest.mark.slow_on("icarus")   # 78 s there; the plain board path runs on Icarus by default
def test_uart_board_path_with_weights_in_spram(sim, spram_design):
    net, x, out = spram_design
    r = run_case(net, x, rtl_dir=out / "rtl", sim=sim, work=out, name=f"spram-{sim}",
                 test_module="snntb.cocotb_link",
                 extra={"divisor": 10, "corrupt": [[1, 0]], "load": [[4, 2], [0]]})
    rep = r.report
    assert rep.get("problems") == [] and rep.get("decoder_errors") == [], rep
    assert rep["weight_errors"] == [ErrorCode.BAD_WEIGHT_ADDRESS]
    assert rep["errors_seen"] == [ErrorCode.BAD_CRC]
    assert len(rep["results"]) == len(x)
    assert r.ok and r.failed == 0


@pytest.fixture(scope="module")
def serial_spram_design(design, tmp_path_factory):
    """The serial core with every layer's weights in one SPRAM store: lanes 4 x 8 bits
    (two SB_SPRAM256KA side by side), 6 x 64 + 3 x 24 = 456 words in banks of 256 rows:
    four blocks; the host's per-layer WEIGHTS frames land at each layer's base."""
    net, x, _ = design
    out = tmp_path_factory.mktemp("serial-spram")
    _, _, man = write_linked(net, 4, out / "rtl", clk_hz=1e6, baud=100_000,
                             weights={0: "spram", 1: "spram"}, bank_words=256, core="serial")
    text = (out / "rtl" / "snn_linked.v").read_text()
    assert text.count("SB_SPRAM256KA ") == 4 and man["weights_loaded"] == [0, 1]
    return net, x[:3], out


def test_uart_board_path_serial_core_with_weights_in_spram(serial_spram_design):
    net, x, out = serial_spram_design
    r = run_case(net, x, rtl_dir=out / "rtl", sim="verilator", work=out, name="serial-spram",
                 test_module="snntb.cocotb_link",
                 extra={"divisor": 10, "corrupt": [[1, 0]], "load": [[4, 4], [0, 1]]})
    rep = r.report
    assert rep.get("problems") == [] and rep.get("decoder_errors") == [], rep
    assert rep["weight_errors"] == [ErrorCode.BAD_WEIGHT_ADDRESS]
    assert len(rep["results"]) == len(x)
    assert r.ok and r.failed == 0


@pytest.fixture(scope="module")
def packed_spram_design(design, tmp_path_factory):
    """Layer 0 at one lane: 8-bit words, two to an SPRAM row (written through the nibble
    mask, picked by the low address bit), 64 x 24 = 1536 words in 768 rows, banks of
    256 rows: three SB_SPRAM256KA."""
    net, x, _ = design
    out = tmp_path_factory.mktemp("packed")
    _, _, man = write_linked(net, [1, 2], out / "rtl", clk_hz=1e6, baud=100_000,
                             weights={0: "spram"}, bank_words=256)
    text = (out / "rtl" / "snn_linked.v").read_text()
    assert text.count("SB_SPRAM256KA ") == 3 and man["weights_loaded"] == [0]
    return net, x[:2], out


def test_uart_board_path_with_packed_spram(packed_spram_design):
    """On Verilator only: loading 1536 words bit by bit over the simulated UART takes
    minutes on Icarus (the unpacked SPRAM design above runs on both)."""
    net, x, out = packed_spram_design
    r = run_case(net, x, rtl_dir=out / "rtl", sim="verilator", work=out, name="packed",
                 test_module="snntb.cocotb_link",
                 extra={"divisor": 10, "load": [[1, 2], [0]]})
    rep = r.report
    assert rep.get("problems") == [] and rep.get("decoder_errors") == [], rep
    assert len(rep["results"]) == len(x)
    assert r.ok and r.failed == 0

