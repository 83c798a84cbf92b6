"""Every model config travels through a checkpoint the same way (genlearn.models._config): a frozen dataclass whose
``to_dict`` is plain JSON and whose ``from_dict`` gives the same config back; range checks say the field and the bound."""

import dataclasses
import importlib
import inspect
import json
import pkgutil

import pytest

import genlearn.models
from genlearn.models._config import SavedConfig, check_at_least


def model_configs() -> list[type]:
    """Every dataclass defined in a genlearn.models module."""
    found = []
    for info in pkgutil.iter_modules(genlearn.models.__path__, "genlearn.models."):
        module = importlib.import_module(info.name)
        found += [c for _, c in inspect.getmembers(module, inspect.isclass) if dataclasses.is_dataclass(c) and c.__module__ == info.name]
    return found


def test_the_model_configs_are_all_found():
    names = {c.__name__ for c in model_configs()}
    assert {"DCGANConfig", "MLPConfig", "ConditionalConfig", "VAEConfig", "CycleGANConfig", "StyleGANConfig"} <= names


@pytest.mark.parametrize("cls", model_configs(), ids=lambda c: c.__name__)
def test_a_model_config_round_trips_through_a_checkpoint_as_plain_json(cls):
    assert issubclass(cls, SavedConfig) and cls.__dataclass_params__.frozen
    config = cls.tiny() if hasattr(cls, "tiny") else cls()
    stored = json.loads(json.dumps(config.to_dict()))  # what a checkpoint's model_config holds
    assert cls.from_dict(stored) == config
    assert set(stored) == {f.name for f in dataclasses.fields(cls)}


def test_check_at_least_names_the_first_field_below_the_bound():
    @dataclasses.dataclass(frozen=True)
    class Sizes:
        width: int = 4
        depth: int = 0

    check_at_least(Sizes(), 0, "width", "depth")
    with pytest.raises(ValueError, match=r"^depth must be >= 1, got 0$"):
        check_at_least(Sizes(), 1, "width", "depth")
    with pytest.raises(ValueError, match=r"^width must be >= 5, got 4$"):
        check_at_least(Sizes(), 5, "width", "depth")
