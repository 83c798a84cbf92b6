"""Distributed data parallel (genlearn.train.distributed) on CPU with the gloo backend and real processes started by
torchrun: k steps on 2 processes equal k steps of one process with the same global batch; under torchrun the command
line writes one run (rank 0), resumes it, and says in one sentence which models it cannot distribute."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from genlearn.train.distributed import Distributed, agree, broadcast_int, from_environment
from genlearn.train.loop import InfiniteBatches, UnevenBatchError

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

TRAIN = textwrap.dedent('''
    import sys, torch
    import torch.distributed as dist
    from genlearn.data import load_digits
    from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
    from genlearn.train.distributed import from_environment, init_process_group
    from genlearn.train.gan import GANTrainConfig, train_gan

    info = from_environment()
    init_process_group(info, torch.device("cpu"))
    torch.manual_seed(0)
    x, _ = load_digits("train")  # (1437, 1, 8, 8)
    cfg = MLPConfig.images(channels=1, size=8)
    G, _ = train_gan(MLPGenerator(cfg), MLPDiscriminator(cfg), x, config=GANTrainConfig(batch_size=64), steps=5, seed=0,
                     progress=False, distributed=info)
    if info.is_main:
        torch.save(G.state_dict(), sys.argv[1])
    if info.active:
        dist.destroy_process_group()
''')


def test_two_processes_equal_one_with_the_same_global_batch(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    one, two = tmp_path / "one.pt", tmp_path / "two.pt"
    subprocess.run([sys.executable, str(script), str(one)], check=True, env=ENV, capture_output=True, timeout=300)
    result = subprocess.run([*TORCHRUN, str(script), str(two)], env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    a, b = torch.load(one), torch.load(two)
    start = MLPGenerator_state()
    moved = max((a[k] - start[k]).abs().max().item() for k in a)
    diff = max((a[k] - b[k]).abs().max().item() for k in a)
    # 5 Adam steps moved the weights by about 1e-3; both runs moved them alike, up to float summation order (1e-7 here;
    # without DDP's averaging, each process stepping on its half alone, the runs part by about the step size)
    assert moved > 5e-4 and diff < 1e-5


WGAN_GP = textwrap.dedent('''
    import sys, torch
    import torch.distributed as dist
    from genlearn.data import toy_mixture
    from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
    from genlearn.train.distributed import from_environment, init_process_group
    from genlearn.train.wgan import WGANTrainConfig, train_wgan

    info = from_environment()
    init_process_group(info, torch.device("cpu"))
    torch.manual_seed(0)
    x, _ = toy_mixture("ring", 2048, seed=0)  # (2048, 2)
    cfg = MLPConfig(data_shape=(2,), hidden=32, depth=2, tanh_output=False)
    critic = MLPDiscriminator(cfg)
    G, history = train_wgan(MLPGenerator(cfg), critic, x, config=WGANTrainConfig.wgan_gp(batch_size=64), steps=3, seed=0,
                            progress=False, distributed=info)
    torch.save({"G": G.state_dict(), "critic": critic.state_dict(), "gp": history["gp"]}, f"{sys.argv[1]}.{info.rank}")
    if info.active:
        dist.destroy_process_group()
''')


def test_the_gradient_penalty_runs_through_ddp_and_the_replicas_stay_equal(tmp_path):
    """WGAN-GP's penalty differentiates the critic twice, through its DDP wrapper. Each rank draws its own
    interpolation points, so the run is not one process's; but DDP keeps the two replicas identical."""
    script = tmp_path / "wgan.py"
    script.write_text(WGAN_GP)
    result = subprocess.run([*TORCHRUN, str(script), str(tmp_path / "w")], env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    r0, r1 = torch.load(tmp_path / "w.0"), torch.load(tmp_path / "w.1")
    assert min(r0["gp"]) > 0  # the penalty was on at every step
    for net in ("G", "critic"):
        assert max((r0[net][k] - r1[net][k]).abs().max().item() for k in r0[net]) < 1e-6, net


def MLPGenerator_state() -> dict:
    from genlearn.models.mlp import MLPConfig, MLPGenerator

    torch.manual_seed(0)
    return MLPGenerator(MLPConfig.images(channels=1, size=8)).state_dict()


def test_the_command_line_under_torchrun_writes_one_run_and_resumes_it(tmp_path):
    argv = [*TORCHRUN, "-m", "genlearn", "train", "gan", "--profile", "smoke", "--out", str(tmp_path / "run")]
    first = subprocess.run([*argv, "--steps", "4"], env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert first.returncode == 0, [line for line in first.stderr.splitlines() if "genlearn:" in line] or first.stderr[-2000:]
    assert first.stdout.count("run saved in") == 1  # rank 0 alone speaks
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint.pt", "history.json"]
    again = subprocess.run([*argv, "--steps", "6"], env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, [line for line in again.stderr.splitlines() if "genlearn:" in line] or again.stderr[-2000:]
    assert "resuming" in again.stdout and "at step 4 of 6" in again.stdout
    import genlearn
    from genlearn.train.checkpoint import load_checkpoint

    assert load_checkpoint(tmp_path / "run")["step"] == 6 and genlearn.load(tmp_path / "run").sample(3).shape == (3, 1, 8, 8)


FAMILIES = ROOT / "tests" / "distributed_families.py"


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    """tests/distributed_families.py's weights: one process ("one"), and both ranks of two ("r0", "r1")."""
    out = tmp_path_factory.mktemp("families")
    one = subprocess.run([sys.executable, str(FAMILIES), str(out / "one")], env=ENV, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([*TORCHRUN, str(FAMILIES), str(out / "two")], env=ENV, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    return {"one": torch.load(out / "one.0"), "r0": torch.load(out / "two.0"), "r1": torch.load(out / "two.1")}


def largest(a: dict, b: dict) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.mark.parametrize("family", ["cyclegan", "pix2pix", "stylegan", "fast-style", "adain", "classifier", "ddpm"])
def test_ddp_keeps_the_replicas_of_every_family_identical(families, family):
    """Each rank trains on its own half of every batch (and its own noise, dropout and shifts); DDP averages every
    gradient, so the replicas stay the same. Without DDP they part after one step (the two halves differ)."""
    r0, r1 = families["r0"][family], families["r1"][family]
    assert largest(r0["weights"], r0["start"]) > 1e-4  # they trained
    assert largest(r0["weights"], r1["weights"]) < 1e-6
    if family == "stylegan":  # the path length step ran through the DDP replica (every second step)
        pl = r0["pl"][~r0["pl"].isnan()]
        assert len(pl) == 2 and (pl > 0).all()


@pytest.mark.parametrize("family", ["cyclegan", "fast-style", "adain"])
def test_two_processes_compute_what_one_process_learns_from_the_same_global_batch(families, family):
    """The families without per-process randomness or batch norm (CycleGAN without its image pool, the feed-forward
    transformation network, AdaIN's decoder): after 3 steps on 2 processes the network computes what it computes after
    3 steps of one process on the same global batches, up to rounding, against outputs that moved by about 1.
    Feed-forward style transfer's gradients are about 1e9 (style weight 1e6), so float32 rounding in small gradient
    entries turns into Adam steps and the agreement is 0.4% rather than 1e-6."""
    one, two = families["one"][family], families["r0"][family]
    moved = (one["out"] - one["before"]).abs().max().item()
    diff = (one["out"] - two["out"]).abs().max().item()
    assert moved > 0.5 and diff < (0.01 if family == "fast-style" else 1e-4) * moved


@pytest.mark.parametrize("model", ["classifier", "cyclegan", "pix2pix", "stylegan", "fast-style", "adain", "ddpm"])
def test_every_recipe_trains_under_torchrun(tmp_path, model):
    """The command line's recipe under torchrun: rank 0 alone writes the run (a checkpoint that genlearn.load reads)."""
    out = tmp_path / "run"
    argv = [*TORCHRUN, "-m", "genlearn", "train", model, "--profile", "smoke", "--out", str(out)] + ([] if model == "classifier" else ["--steps", "2"])
    result = subprocess.run(argv, env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, [line for line in result.stderr.splitlines() if "genlearn:" in line] or result.stderr[-2000:]
    assert result.stdout.count("run saved in") == 1
    from genlearn.train.checkpoint import load_checkpoint

    payload = load_checkpoint(out)
    assert payload["model"] == model and payload["step"] == (20 if model == "classifier" else 2)


def test_a_batch_the_processes_cannot_share_says_so(tmp_path):
    three = [*TORCHRUN[:-1], "3", "-m", "genlearn", "train", "pix2pix", "--profile", "smoke", "--steps", "1", "--out", str(tmp_path / "p")]
    result = subprocess.run(three, env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    said = [line for line in result.stderr.splitlines() if line.startswith("genlearn:")]
    assert result.returncode != 0 and said == [
        "genlearn: pix2pix trains on batches of 4 here, which 3 processes cannot share evenly; "
        "start torchrun with a --nproc_per_node that divides 4, or train pix2pix in one process"
    ]  # once, from rank 0; torchrun's launcher then reports the exit code with a traceback of its own, none from genlearn
    assert not [line for line in result.stderr.splitlines() if line.strip().startswith("File") and "genlearn" in line.split("site-packages")[-1]]


def test_the_closed_form_baseline_is_not_distributed(tmp_path):
    env = {**ENV, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}  # as torchrun sets them
    result = subprocess.run([sys.executable, "-m", "genlearn", "train", "gaussian", "--profile", "smoke", "--out", str(tmp_path / "g")],
                            env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "distributed training (torchrun) is implemented for classifier, gan, dcgan" in result.stderr
    assert "train gaussian in one process" in result.stderr


def test_a_resumed_run_draws_the_latents_that_come_next(tmp_path):
    """With a latent generator (every distributed run has one), a resumed run continues its sequence of latents."""
    from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
    from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig

    def run(steps, checkpoint=None):
        cfg = MLPConfig(data_shape=(2,), hidden=4, depth=1, tanh_output=False)
        setup = Adversarial(MLPGenerator(cfg), MLPDiscriminator(cfg), torch.zeros(8, 2), config=AdversarialTrainConfig(batch_size=4), steps=6,
                            latent_generator=torch.Generator().manual_seed(5))  # fmt: skip
        drawn = []

        def step(batch):
            drawn.append(setup.latents(2))
            setup.opt_d.step(), setup.opt_g.step()  # no gradients: nothing changes but the schedules' order
            setup.end_step()
            return {}

        setup.fit(step, steps=steps, checkpoint=checkpoint, progress=False)
        return drawn

    whole = run(6)
    ckpt = tmp_path / "ckpt.pt"
    first, rest = run(3, ckpt), run(6, ckpt)
    assert len(rest) == 3 and all(torch.equal(a, b) for a, b in zip(first + rest, whole))


def test_each_process_takes_its_share_of_every_global_batch():
    x = torch.arange(20.0)[:, None]
    whole = InfiniteBatches(x, batch_size=4, seed=3)
    shards = [InfiniteBatches(x, batch_size=4, seed=3, shard=(r, 2)) for r in range(2)]
    for _ in range(12):  # across epochs too
        batch = next(whole)
        parts = [next(s) for s in shards]
        assert torch.equal(torch.cat(parts).sort(0).values, batch.sort(0).values) and len(parts[0]) == 2
    with pytest.raises(UnevenBatchError, match="cannot be split evenly over 3 processes"):
        InfiniteBatches(x, batch_size=4, shard=(0, 3))


def test_one_process_needs_no_process_group():
    info = from_environment({})
    assert info == Distributed(0, 1, 0) and info.is_main and not info.active
    assert agree(True, info) and not agree(False, info) and broadcast_int(7, info) == 7
    assert from_environment({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}) == Distributed(1, 2, 1)
    with pytest.raises(ValueError, match="rank must be in"):
        Distributed(2, 2, 0)


def test_checkpoints_hold_the_model_inside_the_ddp_wrapper(tmp_path):
    import torch.distributed as dist

    from genlearn.train.checkpoint import unwrap

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        model = torch.nn.Linear(3, 2)
        wrapped = torch.nn.parallel.DistributedDataParallel(model)
        assert unwrap(wrapped) is model and unwrap(model) is model
        assert list(unwrap(wrapped).state_dict()) == ["weight", "bias"]  # no "module." prefix in a checkpoint
    finally:
        dist.destroy_process_group()


def test_a_schedulers_sigterm_to_torchrun_saves_the_run_once_and_the_same_command_resumes_it(tmp_path):
    """torchrun forwards SIGTERM to its workers; they agree to stop after the same step, rank 0 saves and says so once."""
    import re
    import signal
    import time

    argv = [*TORCHRUN, "-m", "genlearn", "train", "gan", "--profile", "smoke", "--out", str(tmp_path / "run")]
    proc = subprocess.Popen([*argv, "--steps", "1000000"], env=ENV, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180  # started, and some way into training: its first checkpoint (step 500) is there
    while not (tmp_path / "run" / "checkpoint.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    said = re.findall(r"SIGTERM: stopped after step (\d+); saved", out)
    log = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "it/s" not in line]  # no progress bars
    assert len(said) == 1, f"stdout: {out[-1000:]!r}\nstderr without progress bars:\n" + "\n".join(log[-40:])
    from genlearn.train.checkpoint import load_checkpoint

    step = int(said[0])
    assert step > 0 and load_checkpoint(tmp_path / "run")["step"] == step
    again = subprocess.run([*argv, "--steps", str(step + 3)], env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 0 and f"at step {step:,} of {step + 3:,}" in again.stdout, again.stderr[-2000:]
    assert load_checkpoint(tmp_path / "run")["step"] == step + 3


def test_a_signal_that_lands_after_a_ranks_vote_waits_for_the_next_vote(monkeypatch):
    """The race behind a rank stopping alone: SIGTERM lands on this rank while it votes at step 3, and the other rank
    (simulated: the vote returns this rank's own flag, as MAX would with the other rank's False) saw nothing yet. The
    rank must go on to step 4 with everyone, and stop there, when the vote says so."""
    import signal
    import time

    from genlearn.train import loop

    votes = []

    def vote(flag, info):
        if len(votes) == 4:  # step 3's vote on signals (steps 1 and 2 took two votes each: signals, budget)
            os.kill(os.getpid(), signal.SIGTERM)  # delivered to the handler on the next bytecode, after the vote
            time.sleep(0.01)
        votes.append(bool(flag))
        return bool(flag)

    monkeypatch.setattr(loop, "agree", vote)
    steps = []
    with pytest.raises(loop.Interrupted) as stopped:
        loop.fit(lambda batch: steps.append(batch) or {"loss": 0.0}, iter(range(100)), steps=10, modules={"net": torch.nn.Linear(1, 1)},
                 options=loop.FitOptions(progress=False, distributed=Distributed(rank=1, world_size=2)))
    assert stopped.value.signum == signal.SIGTERM
    assert stopped.value.step == 4 and len(steps) == 4  # not 3: step 3's vote was False on every rank
    assert votes == [False, False, False, False, False, False, True, False]  # (signals, budget) per step; stops at 4
