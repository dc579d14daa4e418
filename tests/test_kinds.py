"""Layer kinds are plug-ins: one module per kind on every floor, found through registries.

Every kind the IR registers must be complete on every floor (golden model, host-link
protocol, torch front end, gateware), an unknown kind is a one-line error on each,
and no module outside the kinds modules compares a layer kind with a string literal
(the source is read as syntax trees, not grepped).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from snnhw.ir import IRKindError
from snnhw.ir.kinds import KINDS as IR_KINDS
from snnhw.ir.kinds import layer_class

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "snnhw", ROOT / "boards" / "snnboards", ROOT / "sim" / "snntb")


def _is_kind_home(path: Path) -> bool:
    """A floor's kinds package (``<floor>/kinds/``) or single kinds module."""
    return "kinds" in path.parts or path.name == "kinds.py"


def kind_literals(path: Path, names) -> list[str]:
    """``file:line: 'name'`` for every string constant of ``path`` equal to a kind name."""
    return [f"{path.name}:{node.lineno}: {node.value!r}"
            for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in names]


def test_finder_sees_a_kind_comparison(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""A conv layer in prose is not a literal."""\n\n\n'
                     'def f(layer):\n    return layer.kind == "conv"\n')
    assert kind_literals(probe, set(IR_KINDS)) == ["probe.py:5: 'conv'"]


def test_no_kind_literal_outside_the_kinds_modules():
    found = [hit for folder in SOURCES for path in sorted(folder.rglob("*.py"))
             if not _is_kind_home(path) for hit in kind_literals(path, set(IR_KINDS))]
    assert found == []


IR_MEMBERS = ("KIND", "SINCE_VERSION", "n_in", "n_out", "bias_per_neuron", "abs_row_sums",
              "synops_per_event", "geometry", "validate", "scalars", "from_manifest")
NN_MEMBERS = ("NAME", "MAP_OUT", "torch_modules", "shape_input", "float_layer", "charge",
              "fold_pool", "to_ir", "ir_geometry", "nir_nodes")
GATEWARE_MEMBERS = ("WINDOWED", "READOUT", "window", "bias_words", "manifest_fields",
                    "synapse_matrix")


def _floors():
    from snnhw.gateware import kinds as gateware
    from snnhw.golden import kinds as golden
    from snnhw.nn import kinds as nn
    from snnhw.protocol import kinds as protocol

    return {"golden": (golden.KINDS, ("charge", "naive_charges")),
            "nn": (nn.KINDS, NN_MEMBERS),
            "gateware": (gateware.KINDS, GATEWARE_MEMBERS),
            "protocol": ({k: f for k, f in protocol.WEIGHT_LAYOUTS.items()}, ("__call__",))}


def test_every_ir_kind_is_complete_on_every_floor():
    for name, cls in IR_KINDS.items():
        assert name == cls.KIND
        assert [m for m in IR_MEMBERS if not hasattr(cls, m)] == []
    for floor, (registry, members) in _floors().items():
        assert set(registry) == set(IR_KINDS), floor
        for name, module in registry.items():
            missing = [m for m in members if not hasattr(module, m)]
            assert missing == [], f"{floor} kind {name} lacks {missing}"
    from snnhw.nn import kinds as nn

    assert all(name == module.NAME for name, module in nn.KINDS.items())


def _lookups():
    from snnhw.gateware.kinds import kind as gateware
    from snnhw.golden.kinds import kind as golden
    from snnhw.nn.kinds import kind as nn

    return [layer_class, golden, nn, gateware]


@pytest.mark.parametrize("lookup", range(4))
def test_an_unknown_kind_is_a_one_line_error_naming_it(lookup):
    with pytest.raises(IRKindError) as info:
        _lookups()[lookup]("lstm")
    message = str(info.value)
    assert "'lstm'" in message and "\n" not in message


def test_the_host_link_refuses_a_kind_without_a_layout():
    from types import SimpleNamespace

    from snnhw.protocol.kinds import layer_weight_words

    with pytest.raises(IRKindError, match="'lstm'"):
        layer_weight_words(SimpleNamespace(kind="lstm", W=None, w_bits=4), 2)


def test_a_file_with_an_unknown_kind_is_refused_in_one_line(tmp_path):
    import io
    import json
    import zipfile

    import numpy as np

    from snnhw.ir import dumps, loads
    from snnhw.ir.examples import random_network

    raw = dumps(random_network(np.random.default_rng(0), [4, 3, 2]))
    src = zipfile.ZipFile(io.BytesIO(raw))
    manifest = json.loads(src.read("manifest.json"))
    manifest["layers"][1]["kind"] = "lstm"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in src.infolist():
            data = src.read(info.filename)
            zf.writestr(info.filename, json.dumps(manifest).encode()
                        if info.filename == "manifest.json" else data)
    with pytest.raises(IRKindError) as info:
        loads(out.getvalue())
    assert str(info.value) == ("layer 1: field 'kind' = 'lstm' is not one of "
                               "['dense', 'conv', 'recurrent']")
