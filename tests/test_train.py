import math

import pytest
import torch
from torch import nn

from genlearn.train import CheckpointError, Every, History, InfiniteBatches, NonFiniteLossError, fit, load_checkpoint, save_checkpoint


def make_run(seed=0):
    """A tiny regression model whose step draws noise and uses dropout (so RNG state matters)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(123)
    x = torch.randn(64, 4, generator=g)
    y = x.sum(1, keepdim=True)
    batches = InfiniteBatches(x, y, batch_size=16, seed=5)

    def step(batch):
        xb, yb = batch
        loss = (model(xb + 0.01 * torch.randn_like(xb)) - yb).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    return model, opt, batches, step


def test_infinite_batches_cover_each_epoch_once():
    x = torch.arange(10).float()
    b = InfiniteBatches(x, batch_size=5, seed=0)
    epoch = torch.cat([next(b), next(b)])
    assert sorted(epoch.tolist()) == list(range(10))
    third = next(b)  # next epoch, another permutation
    assert third.shape == (5,)


def test_infinite_batches_resume_same_order():
    x = torch.arange(20).float()
    a = InfiniteBatches(x, batch_size=3, seed=1)
    for _ in range(9):
        next(a)
    state = a.state_dict()
    expected = [next(a) for _ in range(5)]
    b = InfiniteBatches(x, batch_size=3, seed=1)
    b.load_state_dict(state)
    assert all(torch.equal(e, next(b)) for e in expected)


def test_infinite_batches_bad_inputs():
    with pytest.raises(ValueError, match="same first dimension"):
        InfiniteBatches(torch.zeros(4), torch.zeros(5), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        InfiniteBatches(torch.zeros(4), batch_size=8)


def test_fit_learns_and_records_history():
    model, opt, batches, step = make_run()
    calls = []
    history = fit(step, batches, steps=150, modules={"m": model}, optimizers={"o": opt},
                  callbacks=[Every(50, lambda s, h: calls.append(s))], progress=False)
    assert history.steps == list(range(1, 151))
    assert calls == [50, 100, 150]
    assert sum(history["loss"][-10:]) / 10 < 0.2 * sum(history["loss"][:10]) / 10


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, ctrl_c_at):
    model, opt, batches, step = make_run()
    fit(step, batches, steps=30, modules={"m": model}, optimizers={"o": opt}, progress=False)
    reference = [p.detach().clone() for p in model.parameters()]

    ckpt = tmp_path / "run" / "checkpoint.pt"
    model, opt, batches, step = make_run()
    with pytest.raises(KeyboardInterrupt):
        fit(step, batches, steps=30, modules={"m": model}, optimizers={"o": opt},
            callbacks=[ctrl_c_at(13)], checkpoint=ckpt, checkpoint_every=1000, progress=False)
    assert load_checkpoint(ckpt)["step"] == 13

    torch.manual_seed(999)  # a new process: other global RNG state, other initial weights
    model, opt, batches, step = make_run(seed=1)
    history = fit(step, batches, steps=30, modules={"m": model}, optimizers={"o": opt}, checkpoint=ckpt, progress=False)
    assert history.steps == list(range(1, 31))
    for p, q in zip(model.parameters(), reference):
        assert torch.equal(p, q)


def test_time_budget_stops_and_resumes(tmp_path):
    model, opt, batches, step = make_run()
    ckpt = tmp_path / "c.pt"
    h = fit(step, batches, steps=10**6, modules={"m": model}, optimizers={"o": opt},
            checkpoint=ckpt, time_budget=0.2, progress=False)
    done = len(h.steps)
    assert 0 < done < 10**6 and load_checkpoint(ckpt)["step"] == done
    h2 = fit(step, batches, steps=done + 5, modules={"m": model}, optimizers={"o": opt}, checkpoint=ckpt, progress=False)
    assert h2.steps[-1] == done + 5


def test_nan_loss_stops_with_clear_error():
    model = nn.Linear(1, 1)
    with pytest.raises(NonFiniteLossError, match="loss=nan at step 3"):
        fit(lambda b: {"loss": float("nan") if b.item() == 2 else 1.0}, iter(torch.arange(10.)), steps=10,
            modules={"m": model}, progress=False)


def test_history_aligns_sparse_keys():
    h = History()
    h.append(1, {"a": 1.0})
    h.append(2, {"a": 2.0, "b": 3.0})
    h.append(3, {"b": 4.0})
    assert h["a"][:2] == [1.0, 2.0] and math.isnan(h["a"][2])
    assert math.isnan(h["b"][0]) and h["b"][1:] == [3.0, 4.0]


def test_checkpoint_round_trip_keeps_the_run_description(tmp_path):
    import genlearn

    model = nn.Linear(3, 2)
    run = {"model": "x", "model_config": {"width": 3}, "train_config": {"lr": 0.1}, "data": "digits", "seed": 4}
    path = save_checkpoint(tmp_path / "ck.pt", modules={"net": model}, step=7, run=run)
    payload = load_checkpoint(path)
    assert payload["step"] == 7 and {k: payload[k] for k in run} == run
    assert payload["format"] == "genlearn-checkpoint-2" and payload["genlearn_version"] == genlearn.__version__
    with pytest.raises(ValueError, match="unknown keys \\['width'\\]"):
        save_checkpoint(tmp_path / "bad.pt", modules={"net": model}, run={"width": 3})
    other = nn.Linear(3, 2)
    other.load_state_dict(payload["modules"]["net"])
    assert torch.equal(other.weight, model.weight)


def test_checkpoint_unwraps_compiled_prefix(tmp_path):
    model = nn.Linear(2, 2)
    wrapper = nn.Module()
    wrapper._orig_mod = model  # what torch.compile's OptimizedModule looks like
    payload = load_checkpoint(save_checkpoint(tmp_path / "c.pt", modules={"m": wrapper}))
    assert set(payload["modules"]["m"]) == {"weight", "bias"}


def test_missing_or_foreign_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"weight": torch.zeros(1)}, tmp_path / "bare.pt")
    with pytest.raises(CheckpointError, match="not a genlearn checkpoint"):
        load_checkpoint(tmp_path / "bare.pt")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "bare.pt").read_bytes()[:50])  # a truncated file
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"format": "genlearn-checkpoint-1", "config": {}}, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="format 1"):
        load_checkpoint(tmp_path / "old.pt")
