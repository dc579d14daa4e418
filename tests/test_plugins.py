"""Families are found through their registry, never named in a string elsewhere.

The source of ``snnhw``, ``snnboards`` and ``snntb`` is read as syntax trees
(not grepped): a string constant equal to a family's name may stand only in
:mod:`snnhw.families` and the board table (``snnboards.platforms``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from snnhw.families import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "snnhw", ROOT / "boards" / "snnboards", ROOT / "sim" / "snntb")
FAMILY_HOMES = (ROOT / "snnhw" / "families", ROOT / "boards" / "snnboards" / "platforms.py")


def literals(path: Path, words) -> list[str]:
    """``file:line: 'word'`` for every string constant of ``path`` equal to one of
    ``words`` (case-insensitive)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.lower() in words:
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    return found


def _outside(homes):
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.py")):
            if not any(path == h or h in path.parents for h in homes):
                yield path


def test_finder_sees_a_family_literal(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""ECP5 in a docstring is prose."""\n\n\n'
                     'def f(p):\n    return getattr(p, "family", None) == "ecp5"\n')
    assert literals(probe, set(FAMILIES)) == ["probe.py:5: 'ecp5'"]


def test_no_family_literal_outside_families_and_board_table():
    found = [hit for path in _outside(FAMILY_HOMES) for hit in literals(path, set(FAMILIES))]
    assert found == []


def test_every_family_is_complete():
    for name, fam in FAMILIES.items():
        assert fam.name == name and fam.title
        assert fam.bram_shapes and fam.bram_cost > 0 and fam.bram_cells
        assert {var for var, _ in fam.tools} >= {"YOSYS"} and len(fam.tools) == 3
        assert fam.bitstream_suffix.startswith(".")
        r = fam.report
        assert r.lc and r.bram and r.dsp and r.io and r.luts and r.ff_prefixes and r.dsp_cells
        assert fam.logic.base > 0
        # each shape is one block of the same capacity class (a block's bits / shape)
        assert len({d * w for d, w in fam.bram_shapes}) <= 2


def test_every_board_family_makes_its_pll():
    from snnboards.platforms import BOARDS

    for spec in BOARDS.values():
        cfg = spec.family.pll(spec.clk_hz, 2 * spec.clk_hz, spec.device)
        assert cfg.family == spec.family.name
        assert abs(cfg.f_out - 2 * spec.clk_hz) <= 0.02 * spec.clk_hz
