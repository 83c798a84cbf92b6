"""genlearn.bench (the GPU step-time table) on CPU with tiny models, and the precision each of its modes builds."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlearn import bench
from genlearn.train.precision import Precision, active_precision, autocast, to_channels_last, using

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def run_bench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genlearn.bench", "--tiny", "--seconds", "0.2", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_every_case_in_every_mode_is_timed_and_tabled(tmp_path):
    result = run_bench("--compile-backend", "eager", "--out", "bench.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    records = json.loads((tmp_path / "bench.json").read_text())["records"]
    assert [(r["case"], r["mode"]) for r in records] == [(c, m) for c in bench.CASES for m in bench.MODES]
    assert all("error" not in r and r["step_ms"] > 0 and r["timed_steps"] >= 1 for r in records)
    assert {r["batch"] for r in records if r["case"] == "dcgan64"} == {4}  # --tiny
    rows = [line for line in result.stdout.splitlines() if line.startswith("| dcgan64") or line.startswith("| cyclegan256")]
    assert len(rows) == 8 and rows[0].split("|")[5].strip() == "1.00x"  # fp32 against itself
    assert "only compile changes the code" in result.stdout  # on a CPU


def test_a_mode_that_fails_is_reported_and_the_others_still_count(tmp_path):
    result = run_bench("--cases", "dcgan64", "--modes", "fp32,amp+channels-last+compile", "--compile-backend", "no-such-backend", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| dcgan64")]
    assert "failed:" not in rows[0] and "failed:" in rows[1] and "no-such-backend" in rows[1]


@pytest.mark.parametrize(("flag", "said"), [("--modes=fast", "unknown mode fast"), ("--cases=biggan", "unknown case biggan"),
                                            ("--seconds=0", "--seconds must be > 0"), ("--device=tpu", "unknown device 'tpu'")])  # fmt: skip
def test_mistakes_on_the_command_line_say_so_in_one_line(tmp_path, flag, said):
    result = run_bench(flag, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().startswith(f"genlearn.bench: {said}") and "Traceback" not in result.stderr


def test_a_precision_with_the_switches_off_leaves_cuda_alone():
    net = torch.nn.Conv2d(3, 4, 3)
    off = Precision(amp=False, channels_last=False, reason="a test")
    assert to_channels_last(net, "cuda", off).weight.is_contiguous()  # off: the layout stays
    with using(off):
        assert active_precision() == off
        assert isinstance(autocast("cuda"), type(autocast("cpu")))  # a null context, without touching CUDA
    assert to_channels_last(net, "cuda", Precision()).weight.is_contiguous(memory_format=torch.channels_last)
    assert to_channels_last(torch.nn.Conv2d(3, 4, 3), "cpu", Precision()).weight.is_contiguous()  # never on a CPU
    assert Precision().on("cpu") == Precision(amp=False, channels_last=False) and Precision().on("cuda") == Precision()
    with pytest.raises(ValueError, match="say why"):
        Precision.float32("")


def test_each_mode_builds_the_precision_it_names():
    assert [(m.precision.amp, m.precision.channels_last) for m in bench.MODES.values()] == [
        (False, False), (True, False), (True, True), (True, True)]
    assert active_precision() == Precision()  # nothing leaks out of a mode


def test_the_environment_switches_are_read_once_at_the_front_door():
    from genlearn.cli import precision_from_environment
    from genlearn.recipes import UsageError

    assert precision_from_environment({}) == Precision()
    off = precision_from_environment({"GENLEARN_AMP": "0", "GENLEARN_CHANNELS_LAST": "0"})
    assert not off.amp and not off.channels_last and off.reason
    assert precision_from_environment({"GENLEARN_CHANNELS_LAST": "0"}).amp
    with pytest.raises(UsageError, match="GENLEARN_AMP must be 1"):
        precision_from_environment({"GENLEARN_AMP": "yes"})


@pytest.mark.parametrize("case, tiny, batch", [("ddpm32", True, 4), ("ddpm16", False, 128)])
def test_the_ddpm_cases_make_the_same_update_so_their_ratio_is_the_library_overhead(case, tiny, batch):
    """ddpm32 / ddpm16 (the library's step on the shared set-up) and their -plain twins (a minimal loop) change the
    weights alike; ddpm16 is chapter 13's digits net at full size (cheap enough to build and step here)."""
    updated = []
    for name in (case, f"{case}-plain"):
        torch.manual_seed(0)
        step, n = bench.BUILDERS[name](torch.device("cpu"), Precision(amp=False, channels_last=False, reason="a test"), tiny=tiny)
        before = [p.detach().clone() for p in step.network.parameters()]
        torch.manual_seed(1)
        step()
        updated.append([p.detach() - b for p, b in zip(step.network.parameters(), before)])
        assert n == batch
    if case == "ddpm16":
        assert sum(p.numel() for p in step.network.parameters()) == 1_114_532  # DDPMConfig.digits(width=32); test_diffusion_unet counts it independently
    assert any(d.abs().max() > 0 for d in updated[0])
    for a, b in zip(*updated):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


def test_overheads_divide_each_case_by_its_plain_twin_in_the_same_mode():
    records = [{"case": "ddpm16", "mode": "fp32", "step_ms": 66.0}, {"case": "ddpm16-plain", "mode": "fp32", "step_ms": 60.0},
               {"case": "ddpm16", "mode": "amp", "step_ms": 50.0},  # no plain twin in this mode: no line
               {"case": "ddpm32-plain", "mode": "fp32", "step_ms": 10.0}, {"case": "ddpm32", "mode": "fp32", "error": "OOM"},
               {"case": "dcgan64", "mode": "fp32", "step_ms": 5.0}]  # fmt: skip
    assert bench._overheads(records) == ["ddpm16 / ddpm16-plain (fp32): 1.100x"]


def test_the_command_line_prints_the_library_overhead_under_the_table(tmp_path):
    result = run_bench("--cases", "ddpm16,ddpm16-plain", "--modes", "fp32", "--out", "bench.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    ms = {r["case"]: r["step_ms"] for r in json.loads((tmp_path / "bench.json").read_text())["records"]}
    line = [x for x in result.stdout.splitlines() if x.startswith("ddpm16 / ddpm16-plain (fp32): ")]
    assert line == [f"ddpm16 / ddpm16-plain (fp32): {ms['ddpm16'] / ms['ddpm16-plain']:.3f}x"]
