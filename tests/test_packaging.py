"""The package as a reader installs it: build an sdist and a wheel, install the wheel into a fresh virtual
environment (reusing this environment's torch and friends, not its genlearn), and run it from there. This catches
package data the wheel forgot (the classifier weights) and modules that only import from a source checkout."""

import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import genlearn

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with the setuptools already installed (offline); the wheel is built from the sdist
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)], check=True, capture_output=True)
    return out


def test_the_sdist_and_the_wheel_carry_the_version_and_the_package_data(dist):
    [sdist], [wheel] = list(dist.glob("*.tar.gz")), list(dist.glob("*.whl"))
    assert sdist.name == f"genlearn-{genlearn.__version__}.tar.gz" and wheel.name.startswith(f"genlearn-{genlearn.__version__}-py3")
    names = zipfile.ZipFile(wheel).namelist()
    assert "genlearn/metrics/digits_classifier.pt" in names and "genlearn/metrics/translation_classifier.pt" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/"))]
    assert any(n.endswith("genlearn/models/stylegan.py") for n in tarfile.open(sdist).getnames())


def test_the_wheel_works_from_a_fresh_virtual_environment(dist, tmp_path):
    [wheel] = list(dist.glob("*.whl"))
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())  # fmt: skip
    # torch and the other dependencies come from this environment; its editable genlearn is not a path entry there
    (site / "reuse.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)  # fmt: skip
    check = (
        "import importlib, pkgutil, genlearn\n"
        f"assert genlearn.__file__.startswith({str(env)!r}), genlearn.__file__\n"
        "mods = [m.name for m in pkgutil.walk_packages(genlearn.__path__, 'genlearn.') if m.name != 'genlearn.__main__']\n"
        "for m in mods: importlib.import_module(m)\n"
        "from genlearn.metrics.digits import digits_classifier; digits_classifier()\n"
        "print(genlearn.__version__, len(mods))\n"
    )
    run = lambda *argv: subprocess.run([str(python), *argv], cwd=tmp_path, capture_output=True, text=True)
    imported = run("-c", check)
    assert imported.returncode == 0, imported.stderr
    version, count = imported.stdout.split()
    assert version == genlearn.__version__ and int(count) > 60
    helped = run("-m", "genlearn", "--help")
    assert helped.returncode == 0 and "train" in helped.stdout and "evaluate" in helped.stdout, helped.stderr
    script = env / "bin" / "genlearn"  # the console script of [project.scripts]
    assert subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True).returncode == 0
