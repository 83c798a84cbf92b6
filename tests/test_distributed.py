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
from genlearn.train.loop import InfiniteBatches

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

TRAIN = textwrap.dedent('''
    import sys, torch
    import torch.distributed as dist
    from genlearn.data import load_digits
    from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
    from genlearn.train.distributed import from_environment, init_process_group
    from genlearn.train.gan import GANConfig, train_gan

    info = from_environment()
    init_process_group(info, torch.device("cpu"))
    torch.manual_seed(0)
    x, _ = load_digits("train")  # (1437, 1, 8, 8)
    cfg = MLPConfig.images(channels=1, size=8)
    G, _ = train_gan(MLPGenerator(cfg), MLPDiscriminator(cfg), x, config=GANConfig(batch_size=64), steps=5, seed=0,
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
    from genlearn.train.wgan import WGANConfig, train_wgan

    info = from_environment()
    init_process_group(info, torch.device("cpu"))
    torch.manual_seed(0)
    x, _ = toy_mixture("ring", 2048, seed=0)  # (2048, 2)
    cfg = MLPConfig(data_shape=(2,), hidden=32, depth=2, tanh_output=False)
    critic = MLPDiscriminator(cfg)
    G, history = train_wgan(MLPGenerator(cfg), critic, x, config=WGANConfig.wgan_gp(batch_size=64), steps=3, seed=0,
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


def test_a_model_that_cannot_be_distributed_says_so(tmp_path):
    env = {**ENV, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}  # as torchrun sets them
    result = subprocess.run([sys.executable, "-m", "genlearn", "train", "pix2pix", "--profile", "smoke", "--out", str(tmp_path / "p")],
                            env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "distributed training (torchrun) is implemented for gan, dcgan, cgan, wgan, wgan-gp, vae, cvae" in result.stderr


def test_each_process_takes_its_share_of_every_global_batch():
    x = torch.arange(20.0)[:, None]
    whole = InfiniteBatches(x, batch_size=4, seed=3)
    shards = [InfiniteBatches(x, batch_size=4, seed=3, shard=(r, 2)) for r in range(2)]
    for _ in range(12):  # across epochs too
        batch = next(whole)
        parts = [next(s) for s in shards]
        assert torch.equal(torch.cat(parts).sort(0).values, batch.sort(0).values) and len(parts[0]) == 2
    with pytest.raises(ValueError, match="cannot be split evenly over 3 processes"):
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
