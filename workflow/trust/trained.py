"""A benchmark run's trained model, loaded again from its run folder for the trust stage.

Every model is seen through one interface: :meth:`TrainedModel.logits` takes float images
in [0, 1], channels first (``(N, C, *spatial)``), and returns one row of logits per image,
whatever the model is (a network restored from ``checkpoint.pt``'s best weights, scaled
as the engine feeds it; a scikit-learn baseline restored from ``model.joblib``, whose
log-probabilities serve as logits).
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from typing import Iterator
from pathlib import Path

import joblib
import numpy as np
import torch
from torch import nn

from ..data.medmnist import Dataset
from ..models import create, get, load_plugins
from ..train.classical import features
from ..train.engine import to_split
from ..train.metrics import MULTI_LABEL
from ..train.run import CHECKPOINT, CLASSICAL_MODEL, _split_params
from .randomisation import blocks, redraw


class MissingModel(FileNotFoundError):
    """A run folder without the trained model the trust stage needs."""


def as_inputs(images: np.ndarray, spatial_dims: int) -> torch.Tensor:
    """MedMNIST uint8 arrays (channels last, or none) as float images in [0, 1], channels first."""
    return to_split(images, np.zeros(len(images)), spatial_dims, torch.device("cpu")).images.float() / 255.0


@dataclass
class TrainedModel:
    run: dict  # the run's metrics.json
    dataset: Dataset
    module: nn.Module | None = None  # a network, in eval mode
    estimator: object | None = None  # a scikit-learn baseline

    @property
    def name(self) -> str:
        return f"{self.run['dataset']}/{self.run['model']}/seed{self.run['seed']}"

    @property
    def family(self) -> str:
        return self.run["family"]

    def network_input(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] images scaled as the engine feeds them: 2-D to [-1, 1], volumes as they are."""
        return x * 2.0 - 1.0 if x.ndim == 4 else x

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for float images in [0, 1]; differentiable for a network."""
        if self.module is not None:
            return self.module(self.network_input(x))
        channels_last = x.movedim(1, -1) if x.shape[1] > 1 else x[:, 0]
        pixels = features(channels_last.detach().numpy() * 255.0)
        if self.dataset.task == MULTI_LABEL:
            p = np.stack([e.predict_proba(pixels)[:, 1] for e in self.estimator.estimators_], axis=1)
            p = np.clip(p, 1e-7, 1 - 1e-7)
            return torch.from_numpy(np.log(p / (1 - p))).float()
        return torch.from_numpy(np.log(np.clip(self.estimator.predict_proba(pixels), 1e-12, None))).float()

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores as the benchmark reports them: softmax, or sigmoid per label."""
        logits = self.logits(x)
        return torch.sigmoid(logits) if self.dataset.task == MULTI_LABEL else torch.softmax(logits, dim=1)

    @torch.no_grad()
    def predict_logits(self, x: torch.Tensor, batch_size: int = 256) -> np.ndarray:
        return torch.cat([self.logits(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]).numpy()

    def randomised(self, seed: int, names: list[str] | None = None) -> TrainedModel:
        """The same architecture with its weights drawn again (the model-randomisation test of
        Adebayo et al., 2018): for a network, every parameter (:func:`.randomisation.redraw`),
        or those of the submodules ``names``; for a linear baseline, coefficients and
        intercepts drawn from a normal of the trained coefficients' scale."""
        twin = copy.deepcopy(self)
        if twin.module is not None:
            redraw(twin.module, seed, names)
            twin.module.eval()
            return twin
        rng = np.random.default_rng(seed)
        for estimator in getattr(twin.estimator, "estimators_", [twin.estimator]):
            linear = estimator[-1]
            scale = linear.coef_.std() or 1.0
            linear.coef_ = rng.normal(0.0, scale, linear.coef_.shape)
            linear.intercept_ = rng.normal(0.0, scale, np.shape(linear.intercept_))
        return twin

    def cascade(self, seed: int, x: torch.Tensor) -> Iterator[tuple[str, TrainedModel]]:
        """The cascading randomisation (Adebayo et al., 2018, figure 2): the network's
        top-level blocks (:func:`.randomisation.blocks`) re-drawn one more at a time from the
        output down to the input; each step's block name and model. A linear baseline has
        one step, its coefficients."""
        if self.module is None:
            yield "coefficients", self.randomised(seed)
            return
        twin = copy.deepcopy(self)
        for step, names in enumerate(reversed(blocks(twin.module, twin.network_input(x[:1])))):
            redraw(twin.module, seed + step, names)
            yield names[0], copy.deepcopy(twin)


def load(run_dir: str | os.PathLike, model_files: list[str] = ()) -> TrainedModel:
    """The trained model of the run in ``run_dir`` (its metrics.json beside the checkpoint or
    estimator); :class:`MissingModel` names the run when the file is not there."""
    run_dir = Path(run_dir)
    run = json.loads((run_dir / "metrics.json").read_text())
    if run.get("status") != "ok":
        raise MissingModel(f"run {run_dir}: status {run.get('status')!r}, no trained model ({run.get('reason', '')})")
    dataset = Dataset.from_id(run["dataset"])
    load_plugins(list(model_files))
    spec = get(run["arch"])
    if spec.framework == "sklearn":
        path = run_dir / CLASSICAL_MODEL
        if not path.exists():
            raise MissingModel(f"run {run_dir}: no {CLASSICAL_MODEL}; train it again to keep its estimator")
        return TrainedModel(run, dataset, estimator=joblib.load(path))
    path = run_dir / CHECKPOINT
    if not path.exists():
        raise MissingModel(f"run {run_dir}: no {CHECKPOINT}; train it again to keep its weights")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("fingerprint") != run["config"]["fingerprint"]:
        raise MissingModel(f"run {run_dir}: {CHECKPOINT} belongs to another configuration than metrics.json")
    builder_params, _ = _split_params(run["arch"], run["config"]["params"])
    channels = dataset.info["n_channels"]
    size = (dataset.size,) * dataset.spatial_dims
    module = create(run["arch"], spatial_dims=dataset.spatial_dims, in_channels=channels, out_channels=dataset.n_classes, img_size=size, **builder_params)
    module.load_state_dict(saved["best"]["state"])
    return TrainedModel(run, dataset, module=module.eval())

