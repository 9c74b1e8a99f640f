"""The training recipe: MedMNIST v2's defaults, overridable per model in the config."""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("auto", "fp32", "bf16")


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

    def milestone_epochs(self) -> list[int]:
        return sorted({int(round(m * self.epochs)) for m in self.milestones if 0 < m < 1})
