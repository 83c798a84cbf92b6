"""A real Ctrl-C or SIGTERM lands mid-step: the run saves its last completed step, says so in one line,
exits 130 / 143, and the same command then ends bit-identical to an uninterrupted run."""

import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

STEPS = 400


def command(out):
    return [sys.executable, "-m", "genlearn", "train", "dcgan", "--data", "digits", "--steps", str(STEPS), "--device", "cpu", "--out", str(out)]


def environment():
    return {**os.environ, "GENLEARN_PROFILE": "smoke", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def interrupted_run(out, signum, rng):
    """Start the CLI as a real process, wait until training is under way, then signal it at a random moment."""
    p = subprocess.Popen(command(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
    err: list[str] = []
    started = threading.Event()

    def read():
        for chunk in iter(lambda: p.stderr.read(64), ""):
            err.append(chunk)
            if "it/s" in "".join(err[-4:]) or "s/it" in "".join(err[-4:]):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(120), "training never started: " + "".join(err)
    time.sleep(rng.uniform(0.0, 0.3))  # an arbitrary moment, almost surely inside a step
    p.send_signal(signum)
    out_text = p.stdout.read()
    code = p.wait(timeout=120)
    reader.join(timeout=10)
    return code, out_text, "".join(err)


def weights(run):
    from genlearn.train import load_checkpoint

    payload = load_checkpoint(run)
    return payload["step"], payload["modules"], payload["extra"]["history"]["logs"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    subprocess.run(command(out), check=True, env=environment(), capture_output=True, timeout=600)
    return weights(out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_then_resume_ends_bit_identical(signum, tmp_path, uninterrupted):
    run = tmp_path / "run"
    code, out, err = interrupted_run(run, signum, random.Random(int(signum)))
    assert code == 128 + signum, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in out.splitlines() if "stopped after step" in line]
    assert len(lines) == 1 and lines[0].startswith(signal.Signals(signum).name), out
    step, _, _ = weights(run)
    assert 0 < step < STEPS and f"stopped after step {step};" in lines[0]
    resumed = subprocess.run(command(run), env=environment(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    final_step, modules, logs = weights(run)
    ref_step, ref_modules, ref_logs = uninterrupted
    assert final_step == ref_step == STEPS
    np.testing.assert_equal(logs, ref_logs)  # NaN where lazy R1 skipped a step
    for name, state in ref_modules.items():
        for key, value in state.items():
            assert torch.equal(modules[name][key], value), f"{name}.{key} differs after the resume"
