"""The training recipe: MedMNIST v2's defaults, overridable per model in the config."""

from __future__ import annotations

from dataclasses import dataclass, field

PRECISIONS = ("auto", "fp32", "bf16")
CLASS_WEIGHTS = ("none", "balanced")
AXES = {"depth": -3, "vertical": -2, "horizontal": -1}  # flip axes of (N, C, *spatial) batches


@dataclass(frozen=True)
class Augmentation:
    """Random geometric augmentation of training images (workflow.train.augmentation)."""

    flips: tuple[str, ...] = ()  # axes of AXES, each flipped with probability 1/2
    rotate90: bool = False  # rotate by 0, 90, 180 or 270° (equally likely) in the image plane
    translate: int = 0  # shift by up to this many pixels along every spatial axis, zero fill

    def __post_init__(self) -> None:
        unknown = sorted(set(self.flips) - set(AXES))
        if unknown:
            raise ValueError(f"augmentation flips {unknown} are not among {sorted(AXES)}")
        if self.translate < 0:
            raise ValueError(f"augmentation translate must be >= 0, got {self.translate}")

    def __bool__(self) -> bool:
        return bool(self.flips or self.rotate90 or self.translate)


@dataclass(frozen=True)
class Recipe:
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    eval_batch_size: int = 256
    precision: str = "auto"  # "auto": bf16 autocast on CUDA, float32 elsewhere
    compile: bool = False  # torch.compile the model
    augmentation: Augmentation = field(default_factory=Augmentation)  # none by default, as published
    class_weights: str = "none"  # "balanced": the loss weighs classes by inverse frequency (not in the published recipe)

    def __post_init__(self) -> None:
        if self.class_weights not in CLASS_WEIGHTS:
            raise ValueError(f"class_weights {self.class_weights!r} is not one of {CLASS_WEIGHTS}")

    @staticmethod
    def for_dims(settings: dict, spatial_dims: int | None) -> dict:
        """Config-style settings with their ``_2d``/``_3d`` keys (``batch_size_3d``,
        ``epochs_3d``) resolved: the one of ``spatial_dims`` sets its field, over the
        unsuffixed key; the others are dropped."""
        resolved = {k: v for k, v in settings.items() if not k.endswith(("_2d", "_3d"))}
        suffix = f"_{spatial_dims}d"
        resolved.update({k[: -len(suffix)]: v for k, v in settings.items() if k.endswith(suffix) and v is not None})
        return resolved

    @classmethod
    def from_dict(cls, settings: dict, spatial_dims: int | None = None) -> Recipe:
        """A recipe from config-style settings (lists where the recipe holds tuples), their
        ``_2d``/``_3d`` keys resolved for ``spatial_dims`` (see ``for_dims``)."""
        settings = cls.for_dims(settings, spatial_dims)
        if "milestones" in settings:
            settings["milestones"] = tuple(settings["milestones"])
        if "augmentation" in settings:
            augmentation = dict(settings["augmentation"])
            augmentation["flips"] = tuple(augmentation.get("flips", ()))
            settings["augmentation"] = Augmentation(**augmentation)
        return cls(**settings)

    def milestone_epochs(self) -> list[int]:
        return sorted({int(round(m * self.epochs)) for m in self.milestones if 0 < m < 1})
