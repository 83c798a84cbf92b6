"""The chapters on Colab: one first cell for every notebook that installs genlearn on Colab only (tested here as a
no-op elsewhere), and the README's badges and the book's launch buttons that open the committed notebooks."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def first_cell(path: Path) -> str:
    return "".join(next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")["source"])


def install_part() -> str:
    """The first cell up to its genlearn import: the part that runs before genlearn exists."""
    return first_cell(NOTEBOOKS[0]).split("\nimport genlearn\n")[0]


def test_every_notebook_starts_with_the_same_cell():
    cells = {p.name: first_cell(p) for p in NOTEBOOKS}
    assert len(set(cells.values())) == 1, "the first cells differ"
    assert "print(stamp())" in cells[NOTEBOOKS[0].name]


def run_install(monkeypatch, *, colab: bool, installed: bool) -> list:
    import importlib.util

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if installed else None)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if colab:
        monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20260101-060000_RC00")
    else:
        monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    exec(compile(install_part(), "first cell", "exec"), {})
    return calls


def test_the_first_cell_installs_nothing_outside_colab(monkeypatch):
    assert run_install(monkeypatch, colab=False, installed=False) == []
    assert run_install(monkeypatch, colab=True, installed=True) == []  # a Colab runtime that already has it


def test_on_colab_it_installs_genlearn_from_the_published_branch(monkeypatch):
    [cmd] = run_install(monkeypatch, colab=True, installed=False)
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert cmd[1:4] == ["-m", "pip", "install"] and cmd[-1] == f"genlearn @ git+{repo['url']}@{repo['branch']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_the_readme_badge_opens_the_committed_notebook(path):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo, branch = config["repository"]["url"].removeprefix("https://github.com/"), config["repository"]["branch"]
    badge = f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{path.name}"
    assert badge in (ROOT / "README.md").read_text()
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
