"""What every model config shares: its round trip through a checkpoint, and its range checks.

A model's config is a small frozen dataclass whose fields are the whole description of the network; the checkpoint
stores it as a plain dict (``model_config``) and :func:`genlearn.load` rebuilds it with ``from_dict``. The fields
stay in each model's file; only these two methods and the "must be >= N" check live here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Mapping, TypeVar

C = TypeVar("C", bound="SavedConfig")


class SavedConfig:
    """Mixed into a frozen config dataclass: ``to_dict`` gives the plain dict a checkpoint stores, ``from_dict`` the
    config back from it (a config with a non-JSON field, a tuple or a nested config, overrides both)."""

    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]  (self is a dataclass instance)

    @classmethod
    def from_dict(cls: type[C], d: Mapping[str, Any]) -> C:
        return cls(**d)


def check_at_least(config: object, minimum: int, *names: str) -> None:
    """Raise ValueError ``"<name> must be >= <minimum>, got <value>"`` for the first field of ``names`` below it."""
    for name in names:
        value = getattr(config, name)
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
