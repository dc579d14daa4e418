import json
import re
import subprocess
import sys

import numpy as np
import pytest

from snnhw import ir
from snnhw.cli import main
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_network


@pytest.fixture
def net():
    return random_network(np.random.default_rng(3), [9, 7, 4], in_bits=3, timesteps=3,
                          spike_bits=2, name="gen")


def top_ports(text: str, top: str) -> dict[str, tuple[str, int]]:
    body = text[text.index(f"module {top}("):]
    body = body[: body.index("endmodule")]
    ports = {}
    for d, rng, name in re.findall(r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?(\w+);", body, re.M):
        ports[name] = ("in" if d == "input" else "out", int(rng) + 1 if rng else 1)
    return ports


def test_regeneration_is_byte_identical(net, tmp_path):
    a = write(net, [3, 2], tmp_path / "a")
    b = write(net, [3, 2], tmp_path / "b")
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()
    c = write(net, [2, 2], tmp_path / "c")
    assert c[0].read_bytes() != a[0].read_bytes()


def test_manifest_matches_the_verilog(net, tmp_path):
    v, m, man = write(net, 3, tmp_path, top="my_snn")
    assert json.loads(m.read_text()) == man
    assert man["ir_hash"] == net.content_hash() and man["top"] == "my_snn"
    ports = top_ports(v.read_text(), "my_snn")
    assert {k: (p["dir"], p["width"]) for k, p in man["ports"].items()} == ports
    fields = man["ports"]["i__payload"]["fields"]
    assert [f["name"] for f in fields] == ["index", "value", "eos"]
    assert fields[-1]["offset"] + 1 == man["ports"]["i__payload"]["width"]
    assert [ly["groups"] for ly in man["layers"]] == [3, 2]
    assert man["layers"][0]["memories"]["weights"] == {
        "name": "layer0.syn.weights.mem", "words": 3 * 9, "width": 3 * 8, "kind": "rom"}


def test_cli_generate(net, tmp_path, capsys):
    path = ir.save(net, tmp_path / "n.snn")
    assert main(["generate", str(path), "--lanes", "2,4", "-o", str(tmp_path / "rtl"),
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["lanes"] == [2, 4] and d["ir_hash"] == net.content_hash()
    assert (tmp_path / "rtl" / "snn_top.v").exists()


@pytest.mark.parametrize("args, text", [
    (["--lanes", "0"], "--lanes takes one positive integer or 2 of them"),
    (["--lanes", "1,2,3"], "--lanes takes one positive integer or 2 of them"),
    (["--lanes", "x"], "--lanes takes integers"),
    (["--top", "9bad"], "--top must be a Verilog identifier"),
])
def test_cli_generate_errors(net, tmp_path, args, text):
    path = ir.save(net, tmp_path / "n.snn")
    r = subprocess.run([sys.executable, "-m", "snnhw", "generate", str(path), "-o",
                        str(tmp_path / "o"), *args], capture_output=True, text=True)
    assert r.returncode == 2 and text in r.stderr and "Traceback" not in r.stderr
