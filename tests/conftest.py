import os

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
