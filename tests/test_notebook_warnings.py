"""The notebooks' kernels turn genlearn's own DeprecationWarning and FutureWarning into errors, as pytest does: a real
kernel under nbval, with the startup file that the Makefile installs, fails a cell whose warning comes from genlearn
and passes one whose warning comes from elsewhere."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def notebook(path: Path, source: str) -> Path:
    cell = {"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {}, "outputs": [], "source": source}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def run_nbval(tmp_path: Path, nb: Path) -> subprocess.CompletedProcess:
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tests" / "notebook_warnings.py", startup / "00-genlearn-warnings.py")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", str(nb)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=300)


WARN = 'import warnings\nwarnings.warn_explicit("old", {category}, "{file}", 1, module="{module}")\nprint("went on")'


def test_a_deprecation_from_genlearn_fails_the_cell(tmp_path):
    for category in ("DeprecationWarning", "FutureWarning"):
        nb = notebook(tmp_path / f"{category}.ipynb", WARN.format(category=category, file="genlearn/runtime.py", module="genlearn.runtime"))
        result = run_nbval(tmp_path, nb)
        assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout[-2000:]
        assert re.search(rf"{category}\W*:\W*old", re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)), result.stdout[-2000:]


def test_a_deprecation_from_another_library_does_not(tmp_path):
    nb = notebook(tmp_path / "other.ipynb", WARN.format(category="DeprecationWarning", file="torchvision/x.py", module="torchvision.x"))
    result = run_nbval(tmp_path, nb)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-2000:]


def test_both_notebook_runs_of_make_test_use_it():
    make = (ROOT / "Makefile").read_text()
    for target in ("nbval", "gpu-dry-run", "gpu-dry-run-library-lane", "gpu-dry-run-notebook-lane"):
        rule = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)+)", make, re.M)
        assert rule and "$(NB_WARNINGS)" in rule.group(1) and "IPYTHONDIR=$(IPYTHONDIR_NB)" in rule.group(2), target
    assert "cp $< $@" in make and "NB_WARNINGS := $(IPYTHONDIR_NB)/profile_default/startup/" in make
    lanes = {lane: re.search(rf"^{lane}:.*\n\t\$\(MAKE\) -j1 (.*)\n", make, re.M).group(1).split() for lane in ("test-library", "test-notebooks")}
    assert "gpu-dry-run-library-lane" in lanes["test-library"] and "gpu-dry-run-notebook-lane" in lanes["test-notebooks"], lanes
