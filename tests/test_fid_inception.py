"""The FID Inception-v3 (TensorFlow's graph, pytorch-fid's weights file): its pooling details, loading from a local
file only, and the sentence that names the file when it is absent. The real weights are never downloaded here."""

import pytest
import torch
import torch.nn.functional as F
from torchvision.models import inception as tv

from genlearn.metrics.evaluate import evaluate
from genlearn.models.fid_inception import (
    WEIGHTS_FILE,
    FIDInceptionA,
    FIDInceptionE,
    FIDInceptionV3,
    FIDWeightsMissing,
    fid_inception_weights,
    load_fid_inception,
)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()


def test_block_a_leaves_the_padding_out_of_its_average_pool():
    torch.manual_seed(0)
    ours, theirs = FIDInceptionA(8, pool_features=4), tv.InceptionA(8, pool_features=4)
    _same_weights(ours, theirs)
    x = torch.randn(1, 8, 6, 6)
    a, b = ours(x)[:, -4:], theirs(x)[:, -4:]  # the pool branch: its last 4 channels
    assert torch.allclose(a[..., 1:-1, 1:-1], b[..., 1:-1, 1:-1], atol=1e-6)  # inside, no padding is read
    assert not torch.allclose(a[..., 0, :], b[..., 0, :], atol=1e-3)  # at the border the two averages differ
    assert torch.allclose(ours(x)[:, :-4], theirs(x)[:, :-4], atol=1e-6)  # the other branches are torchvision's


def test_the_last_block_max_pools():
    torch.manual_seed(0)
    ours, theirs = FIDInceptionE(8, pool="max"), tv.InceptionE(8)
    _same_weights(ours, theirs)
    x = torch.randn(1, 8, 5, 5)
    expected = theirs.branch_pool(F.max_pool2d(x, 3, stride=1, padding=1))  # (1, 192, 5, 5)
    assert torch.allclose(ours(x)[:, -192:], expected, atol=1e-6)
    assert not torch.allclose(theirs(x)[:, -192:], expected, atol=1e-3)


def test_a_weights_file_loads_and_gives_2048_features(tmp_path, monkeypatch):
    torch.manual_seed(0)
    file = tmp_path / WEIGHTS_FILE
    torch.save(FIDInceptionV3().net.state_dict(), file)  # random weights in the real file's layout
    model = load_fid_inception(file)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    f = model(x)
    assert f.shape == (2, 2048) and torch.isfinite(f).all() and not torch.allclose(f[0], f[1])
    # torchvision documents 27,161,264 parameters for Inception-v3 with its aux head (conv 768->128 1x1 + BN, conv
    # 128->768 5x5 + BN, fc 768->1000); without it, and with 8 more classes (2048 weights + 1 bias each):
    aux = 768 * 128 + 2 * 128 + 128 * 768 * 25 + 2 * 768 + 768 * 1000 + 1000
    assert sum(p.numel() for p in model.parameters()) == 27_161_264 - aux + 8 * 2049
    monkeypatch.setenv("GENLEARN_FID_WEIGHTS", str(file))
    assert fid_inception_weights() == file
    with pytest.raises(ValueError, match="at least 2049"):  # found the file through the variable, then asks for N > D
        evaluate(x.repeat(3, 1, 1, 1), x.repeat(3, 1, 1, 1), features="inception-v3-fid")


def test_absent_or_wrong_weights_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLEARN_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))
    with pytest.raises(FIDWeightsMissing, match=f"download {WEIGHTS_FILE}.*GENLEARN_FID_WEIGHTS.*efficientnet-lite0"):
        load_fid_inception()
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(ValueError, match="is not the FID Inception-v3 state dict"):
        load_fid_inception(wrong)


def test_the_command_line_names_the_file(capsys, monkeypatch, tmp_path):
    from genlearn.cli import main

    monkeypatch.setenv("GENLEARN_FID_WEIGHTS", str(tmp_path / "absent.pth"))
    assert main(["evaluate", "digits-test", "--features", "inception-v3-fid"]) == 2
    err = capsys.readouterr().err
    assert WEIGHTS_FILE in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
