"""The project's own files agree with each other: pins, the table of contents, notebooks, CI."""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
from execute import collapse_streams, compact_png, final_text  # noqa: E402


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v)[:3])


def test_package_uses_lower_bounds_and_the_environments_pin_each_one_exactly():
    """The package declares lower bounds only; requirements.txt pins every one of them exactly, at or above the bound."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"dependencies = \[(.*?)\]", pyproject, re.S).group(1)
    bounds = dict(re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9.]+)"', deps))
    assert "==" not in deps and {"torch", "torchvision"} <= set(bounds)
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M))
    for name, bound in bounds.items():
        assert name in pins, f"{name} has a lower bound in pyproject.toml but no exact pin in requirements.txt"
        assert version_tuple(pins[name]) >= version_tuple(bound), f"{name}: pin {pins[name]} is below the bound {bound}"
    env = (ROOT / "environment.yml").read_text()
    assert "-r requirements.txt" in env and "conda-forge" in env and "pytorch\n" not in env


def test_the_shipped_classifier_weights_are_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"metrics/digits_classifier.pt"' in pyproject and (ROOT / "genlearn" / "metrics" / "digits_classifier.pt").is_file()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert ci.strip().splitlines()[-1] == "make test"


def toc_files():
    text = (ROOT / "_toc.yml").read_text()
    return re.findall(r"(?:root|file):\s*(\S+)", text)


def test_toc_entries_exist_and_every_notebook_is_listed():
    files = toc_files()
    for f in files:
        assert (ROOT / f).with_suffix(".md").exists() or (ROOT / f).with_suffix(".ipynb").exists(), f
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"notebooks/{nb.stem}" in files, f"{nb.name} is missing from _toc.yml"


def test_only_the_bibliography_page_prints_the_bibliography():
    pages = [p for p in ROOT.glob("book/*.md") if "{bibliography}" in p.read_text()]
    notebooks = [p for p in (ROOT / "notebooks").glob("*.ipynb") if "{bibliography}" in p.read_text()]
    assert [p.name for p in pages] == ["bibliography.md"] and notebooks == []


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebook_is_one_stamped_run(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "some code cells were never executed"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), "not one top-to-bottom run"
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    first = "".join("".join(o.get("text", "")) for o in code[0]["outputs"])
    assert "genlearn stamp:" in first and "profile cpu" in first and "wall time of this run" in first
    assert any("image/png" in o.get("data", {}) for c in code for o in c["outputs"]), "no figures"
    assert path.stat().st_size < 4e6


def test_progress_bars_are_stored_as_their_final_state():
    assert final_text("\rstep 1\rstep 2\ndone") == "step 2\ndone"
    outs = [{"output_type": "stream", "name": "stderr", "text": t} for t in ("\r1/3", "\r2/3", "\r3/3\n")]
    outs.append({"output_type": "display_data", "data": {}})
    merged = collapse_streams(outs)
    assert len(merged) == 2 and merged[0]["text"] == "3/3\n"
    assert collapse_streams([{"output_type": "stream", "name": "stderr", "text": "\r\n"}]) == []


def test_large_figures_are_stored_as_palette_pngs_and_small_ones_unchanged():
    import base64
    import io

    import numpy as np
    from PIL import Image

    def png(array: np.ndarray) -> str:
        out = io.BytesIO()
        Image.fromarray(array).save(out, format="PNG")
        return base64.b64encode(out.getvalue()).decode()

    rng = np.random.default_rng(0)
    photo = (np.linspace(0, 255, 400)[None, :, None] + rng.normal(0, 20, (400, 400, 3))).clip(0, 255).astype(np.uint8)
    small = np.zeros((8, 8, 3), np.uint8)
    assert compact_png(png(small)) == png(small)
    packed = compact_png(png(photo))
    im = Image.open(io.BytesIO(base64.b64decode(packed)))
    assert len(packed) < 0.6 * len(png(photo)) and im.mode == "P" and im.size == (400, 400)
    assert np.abs(np.asarray(im.convert("RGB")).astype(int) - photo).mean() < 12  # close to the original colours
