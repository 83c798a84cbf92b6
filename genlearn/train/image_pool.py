"""CycleGAN's history of generated images (Shrivastava et al. 2017, Sec. 2.3; Zhu et al. 2017, Sec. 4)."""

from __future__ import annotations

import torch


class ImagePool:
    """A buffer of the last generated images, so D also sees fakes from earlier generators.

    ``query(fakes)`` returns a batch of the same shape: while the pool is not full, each fake is
    stored and returned as it is; once full, each fake is, with probability 1/2, returned as it is,
    else swapped for a uniformly chosen stored image (which it replaces). ``size=0`` disables it.
    The choices come from a seeded generator, and the pool's contents go into checkpoints.

    Args:
        size: images kept (50 in the paper).
        seed: seeds the coin flips and the choice of stored image.

    Chapter 7.
    """

    def __init__(self, size: int = 50, seed: int = 0):
        if size < 0:
            raise ValueError(f"the pool size must be >= 0, got {size}")
        self.size, self.images = size, []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """fakes (N, C, H, W), detached -> (N, C, H, W): new fakes and, once full, stored ones."""
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(len(self.images), (), generator=self.generator))
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"size": self.size, "images": [t.cpu() for t in self.images], "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.size, self.images = state["size"], list(state["images"])
        self.generator.set_state(state["generator"])


__all__ = ["ImagePool"]
