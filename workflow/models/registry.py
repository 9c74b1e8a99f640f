"""A registry of model builders: ``@register(name, family, spatial_dims)`` then ``create``.

A builder returns a ``torch.nn.Module`` (trained by the engine) or, registered with
``framework="sklearn"``, a scikit-learn estimator (fitted by ``workflow.train.classical``).

Built-in families live in modules of this package and register on import; a model in a
file elsewhere registers when that file is loaded with :func:`load_plugins` (the config's
``benchmark.model_files``), so adding one touches no core module.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from torch import nn

FAMILIES = ("cnn", "vit", "autoencoder", "gan", "unet", "rnn", "hybrid", "classical")
TASKS = ("classification", "segmentation")
FRAMEWORKS = ("torch", "sklearn")
BUILTIN_MODULES = ("cnn", "vit", "hybrid", "rnn", "segmentation", "autoencoder", "classical")

Builder = Callable[..., "nn.Module"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    spatial_dims: tuple[int, ...]
    builder: Builder
    task: str = "classification"
    pretrain: Callable[..., dict] | None = None  # unsupervised stage run on the training images before fitting
    framework: str = "torch"  # what the builder returns: a torch module or a scikit-learn estimator

    def supports(self, spatial_dims: int) -> bool:
        return spatial_dims in self.spatial_dims


_REGISTRY: dict[str, ModelSpec] = {}


def register(
    name: str,
    family: str,
    spatial_dims: tuple[int, ...] = (2,),
    task: str = "classification",
    pretrain: Callable[..., dict] | None = None,
    framework: str = "torch",
) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder(spatial_dims, in_channels, out_channels, **params)`` known."""
    if family not in FAMILIES:
        raise ValueError(f"model {name!r}: family {family!r} is not one of {FAMILIES}")
    if task not in TASKS:
        raise ValueError(f"model {name!r}: task {task!r} is not one of {TASKS}")
    if framework not in FRAMEWORKS:
        raise ValueError(f"model {name!r}: framework {framework!r} is not one of {FRAMEWORKS}")

    def decorate(builder: Builder) -> Builder:
        existing = _REGISTRY.get(name)
        if existing and existing.builder.__qualname__ != builder.__qualname__:
            raise ValueError(f"model {name!r} is already registered by {existing.builder.__module__}")
        _REGISTRY[name] = ModelSpec(name, family, tuple(spatial_dims), builder, task, pretrain, framework)
        return builder

    return decorate


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(f"{__package__}.{module}")


def load_plugins(paths: list[str | Path]) -> None:
    """Import model files named in the config so that their ``@register`` calls run."""
    for path in paths:
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"model file {path} (benchmark.model_files) does not exist")
        name = f"dlmia_plugin_{path.stem}"
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


def registered() -> dict[str, ModelSpec]:
    _load_builtins()
    return dict(_REGISTRY)


def get(name: str) -> ModelSpec:
    models = registered()
    if name not in models:
        raise KeyError(f"no model architecture {name!r}; registered: {', '.join(sorted(models))}")
    return models[name]


def create(
    name: str, spatial_dims: int, in_channels: int, out_channels: int, img_size: tuple[int, ...] | None = None, **params
) -> "nn.Module":
    """Build a registered model; ``img_size`` reaches builders that declare it (e.g. ViT)."""
    spec = get(name)
    if not spec.supports(spatial_dims):
        raise ValueError(f"model {name!r} supports {spec.spatial_dims}-D inputs, not {spatial_dims}-D")
    if "img_size" in inspect.signature(spec.builder).parameters:
        if img_size is None:
            raise ValueError(f"model {name!r} needs img_size")
        params["img_size"] = img_size
    return spec.builder(spatial_dims=spatial_dims, in_channels=in_channels, out_channels=out_channels, **params)
