"""The README and docs/: every relative link resolves (files and images), the README stays
a front door (at most 200 lines), and every docs page is listed in docs/README.md."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_every_docs_page_is_in_the_index():
    index = (ROOT / "docs" / "README.md").read_text()
    missing = [p.name for p in PAGES[1:] if p.name != "README.md" and f"]({p.name})" not in index]
    assert missing == []


def test_the_cli_reference_names_every_command_and_the_api_page_every_export():
    import snnhw.api
    from snnhw.cli import build_parser

    cli = (ROOT / "docs" / "cli.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert len(sub.choices) >= 11
    assert [name for name in sub.choices if f"`snnhw {name} " not in cli] == []
    api = (ROOT / "docs" / "api.md").read_text()
    assert [name for name in snnhw.api.__all__ if name not in api] == []


def test_the_documentation_site_builds_strict(tmp_path):
    """mkdocs.yml: every page in the navigation, the API reference from the docstrings,
    no warning (broken links, missing pages, unrendered references) tolerated."""
    import os
    import subprocess
    import sys

    import pytest

    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                         capture_output=True, text=True,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    page = (tmp_path / "site" / "reference" / "index.html").read_text()
    assert "from_nir" in page and "SnnhwError" in page
