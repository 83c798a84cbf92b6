import os

import pytest
import torch

os.environ.setdefault("GENLEARN_PROFILE", "smoke")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def classifier():
    """The reference digits classifier (trained once, then cached under $GENLEARN_CACHE)."""
    from genlearn.metrics.digits import digits_classifier

    return digits_classifier()
