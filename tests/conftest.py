import os
import socket

import pytest
import torch

os.environ.setdefault("GENLEARN_PROFILE", "smoke")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def classifier():
    """The reference digits classifier (the weights shipped with genlearn)."""
    from genlearn.metrics.digits import digits_classifier

    return digits_classifier()


@pytest.fixture
def ctrl_c_at():
    """``ctrl_c_at(k)``: a callback for :func:`genlearn.train.fit` that simulates Ctrl-C right after step ``k``."""
    from genlearn.train import Every

    def make(k: int) -> Every:
        def interrupt(step, history):
            if step == k:
                raise KeyboardInterrupt

        return Every(1, interrupt)

    return make


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection fails at once, as on a machine without network."""

    def refuse(*args, **kwargs):
        raise OSError("network is disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
