"""Training throughput: MedMNIST's official training loop against this suite's engine.

Same model (the registry's ResNet-18 with the 28-px stem, full width), same batch, same
device, one process; repetitions alternate between the paths and medians are reported.

Official loop, as in MedMNIST/experiments ``train_and_eval_pytorch.py`` (2-D and 3-D): a
``DataLoader`` (shuffle, ``num_workers`` 0 as there) over the ``medmnist`` package's own
dataset class, then per batch ``.to(device)``, forward, loss, ``loss.item()``, backward,
Adam step. The class builds each sample, and the experiments' transform finishes it:
- 2-D: the class makes a ``PIL.Image`` of the uint8 array; ``ToTensor`` and
  ``Normalize(mean=.5, std=.5)`` (torchvision's semantics, reimplemented here).
- 3-D: the class gives ``np.stack([volume / 255.])`` (float64); ``Transform3D()``, the
  experiments' default (no ``--shape_transform``), casts it to float32: inputs in [0, 1],
  where the engine uses [-1, 1].
Ours: ``workflow.train.engine.Trainer`` on the split held on the device as uint8.
Each path's achieved TFLOP/s (3 × forward FLOPs per image) is also set against the
device's measured matrix-product rate in the same arithmetic (fp32 or bf16).

``--augment P`` adds the same augmentation to both paths' training batches: a horizontal
flip with probability 1/2, then a shift of up to P pixels with zero fill. Officially,
per sample as torchvision's ``RandomHorizontalFlip()`` and ``RandomCrop(size, padding=P)``
do it (on the PIL image in 2-D, on the array in 3-D); ours, batched on the device
(``workflow.train.augmentation``).

A short training of both paths from the same seed then prints each one's test AUC.

    DLMIA_DATA=/path/to/data .venv/bin/python benchmarks/training_throughput.py \\
        [--device cpu] [--threads 2] [--steps 3] [--repeats 3] [--variants fp32,bf16] \\
        [--datasets pneumoniamnist,adrenalmnist3d] [--augment 4] [--check-epochs 2 --check-width 1.0] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import DataLoader

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workflow.data.medmnist import Dataset, load_splits  # noqa: E402
from workflow.models import create  # noqa: E402
from workflow.train.augmentation import augment  # noqa: E402
from workflow.train.engine import Split, Trainer, autocast_dtype, pick_device, seed_everything, to_split  # noqa: E402
from workflow.train.metrics import MULTI_LABEL, evaluate  # noqa: E402
from workflow.train.recipe import Augmentation, Recipe  # noqa: E402
from workflow.train.run import flops_per_image  # noqa: E402


def to_tensor(image: Image.Image) -> torch.Tensor:
    """torchvision's ``ToTensor`` for 8-bit images: HWC bytes → CHW float in [0, 1]."""
    array = np.array(image, copy=True)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array).permute(2, 0, 1).contiguous().to(torch.float32).div(255)


def normalize(tensor: torch.Tensor, mean: float = 0.5, std: float = 0.5) -> torch.Tensor:
    """torchvision's ``Normalize(mean=[mean], std=[std])``."""
    shape = (-1, 1, 1)
    return tensor.clone().sub_(torch.as_tensor([mean]).view(shape)).div_(torch.as_tensor([std]).view(shape))


def transform_2d(image: Image.Image) -> torch.Tensor:
    """The experiments' 2-D ``data_transform``: ``Compose([ToTensor(), Normalize(mean=[.5], std=[.5])])``."""
    return normalize(to_tensor(image))


def transform_3d(volume: np.ndarray) -> np.ndarray:
    """The experiments' ``Transform3D()`` (``mul=None``): a cast to float32."""
    return volume.astype(np.float32)


def flip_and_shift_2d(pixels: int):
    """torchvision's ``RandomHorizontalFlip()`` then ``RandomCrop(size, padding=pixels)`` on a PIL image."""

    def apply(image: Image.Image) -> Image.Image:
        if torch.rand(1) < 0.5:
            image = ImageOps.mirror(image)
        top, left = torch.randint(0, 2 * pixels + 1, (2,)).tolist()
        return ImageOps.expand(image, border=pixels, fill=0).crop((left, top, left + image.width, top + image.height))

    return apply


def flip_and_shift_3d(pixels: int):
    """The same per sample on a (C, D, H, W) array: flip the last axis, shift every spatial axis."""

    def apply(volume: np.ndarray) -> np.ndarray:
        if torch.rand(1) < 0.5:
            volume = volume[..., ::-1]
        starts = torch.randint(0, 2 * pixels + 1, (3,)).tolist()
        padded = np.pad(volume, [(0, 0)] + [(pixels, pixels)] * 3)
        return np.ascontiguousarray(padded[(slice(None), *[slice(s, s + n) for s, n in zip(starts, volume.shape[1:])])])

    return apply


def official_dataset(dataset: Dataset, split: str, root: Path, augment: int = 0) -> torch.utils.data.Dataset:
    """The ``medmnist`` class of ``dataset`` over the files in ``root``, with the experiments'
    transform, after ``--augment``'s per-sample flip and shift when ``augment`` > 0."""
    import medmnist

    transform = transform_2d if dataset.spatial_dims == 2 else transform_3d
    if augment:
        random = (flip_and_shift_2d if dataset.spatial_dims == 2 else flip_and_shift_3d)(augment)
        transform = lambda sample, finish=transform: finish(random(sample))  # noqa: E731
    cls = getattr(medmnist, medmnist.INFO[dataset.flag]["python_class"])
    return cls(split=split, transform=transform, root=str(dataset.path(root).parent), size=dataset.size)


def official_step(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    task: str,
    criterion: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> float:
    """One iteration of the experiments' ``train()``; the loss, read back as they read it."""
    optimizer.zero_grad()
    outputs = model(inputs.to(device))
    if task == MULTI_LABEL:
        loss = criterion(outputs, targets.to(torch.float32).to(device))
    else:
        loss = criterion(outputs, torch.squeeze(targets, 1).long().to(device))
    value = loss.item()
    loss.backward()
    optimizer.step()
    return value


@torch.no_grad()
def official_scores(model: torch.nn.Module, loader: DataLoader, task: str, device: torch.device) -> np.ndarray:
    """The experiments' ``test()``: softmax (or sigmoid) scores in loader order."""
    model.eval()
    outputs = [model(inputs.to(device)) for inputs, _ in loader]
    scores = torch.cat([torch.sigmoid(o) if task == MULTI_LABEL else torch.softmax(o, dim=1) for o in outputs])
    return scores.cpu().numpy()


def _criterion(task: str) -> torch.nn.Module:
    return torch.nn.BCEWithLogitsLoss() if task == MULTI_LABEL else torch.nn.CrossEntropyLoss()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _model(dataset: Dataset, in_channels: int, seed: int, width: float) -> torch.nn.Module:
    seed_everything(seed)
    return create("resnet18", dataset.spatial_dims, in_channels, dataset.n_classes, widen_factor=width)


class Official:
    """The official loop, stepping ``steps`` batches at a time from an endless shuffled loader."""

    def __init__(self, dataset: Dataset, root: Path, batch: int, workers: int, device: torch.device, seed: int, width: float = 1.0, augment: int = 0):
        self.model = _model(dataset, dataset.info["n_channels"], seed, width).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.criterion = _criterion(dataset.task)
        train = official_dataset(dataset, "train", root, augment)
        self.loader = DataLoader(train, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
        self.batches = iter(self.loader)
        self.task, self.device = dataset.task, device

    def run(self, steps: int) -> int:
        self.model.train()
        seen = 0
        for _ in range(steps):
            try:
                inputs, targets = next(self.batches)
            except StopIteration:
                self.batches = iter(self.loader)
                inputs, targets = next(self.batches)
            official_step(self.model, inputs, targets, self.task, self.criterion, self.optimizer, self.device)
            seen += len(inputs)
        _sync(self.device)
        return seen


class Ours:
    """The engine's step over the device-resident split, in seeded shuffled order."""

    def __init__(self, dataset: Dataset, train: Split, recipe: Recipe, device: torch.device, seed: int, width: float = 1.0):
        self.trainer = Trainer(_model(dataset, train.images.shape[1], seed, width), dataset.task, recipe, dataset.spatial_dims, device)
        self.train, self.batch = train, recipe.batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.augmentation_generator = torch.Generator(device=device).manual_seed(seed)
        self.order = torch.empty(0, dtype=torch.long, device=device)

    def run(self, steps: int) -> int:
        needed = steps * self.batch
        while len(self.order) < needed:
            fresh = torch.randperm(len(self.train.images), generator=self.generator).to(self.order.device)
            self.order = torch.cat([self.order, fresh])
        order, self.order = self.order[:needed], self.order[needed:]
        self.trainer.epoch(self.train, order, self.batch, self.augmentation_generator)
        _sync(order.device)
        return needed

    def syncs_in_step(self) -> str:
        """On CUDA: "none" if a step runs with no host synchronisation, else the error."""
        if self.trainer.device.type != "cuda":
            return "not checked (CUDA only)"
        order = torch.randperm(len(self.train.images), device=self.trainer.device)[: self.batch]
        torch.cuda.set_sync_debug_mode("error")
        try:
            self.trainer.epoch(self.train, order, self.batch, self.augmentation_generator)
            return "none"
        except RuntimeError as error:
            return str(error).splitlines()[0]
        finally:
            torch.cuda.set_sync_debug_mode("default")


def flip_and_shift(pixels: int) -> Augmentation:
    """The engine's form of ``--augment``: the same flip and shift, batched on the device."""
    return Augmentation(flips=("horizontal",), translate=pixels) if pixels else Augmentation()


def _variant(recipe: Recipe, name: str, augment: int = 0) -> Recipe:
    precision, _, compiled = name.partition("+")
    return replace(recipe, precision=precision, compile=compiled == "compile", augmentation=flip_and_shift(augment))


def augmentation_cost(dataset: Dataset, root: Path, train: Split, batch: int, pixels: int, device: torch.device, repeats: int = 20) -> dict:
    """Milliseconds per batch of the flip and shift alone: per sample (the official transform's
    random part, on PIL images or arrays) against batched on the device."""
    samples = list(official_dataset(dataset, "train", root).imgs[:batch])
    if dataset.spatial_dims == 2:
        samples, per_sample = [Image.fromarray(s) for s in samples], flip_and_shift_2d(pixels)
    else:
        samples, per_sample = [np.stack([s / 255.0]) for s in samples], flip_and_shift_3d(pixels)
    images, settings = train.images[:batch], flip_and_shift(pixels)
    generator = torch.Generator(device=device).manual_seed(0)
    augment(images, settings, generator)
    _sync(device)
    timed = {}
    for name, work in {"official": lambda: [per_sample(s) for s in samples], "ours": lambda: augment(images, settings, generator)}.items():
        began = time.perf_counter()
        for _ in range(repeats):
            work()
        _sync(device)
        timed[name] = round(1000 * (time.perf_counter() - began) / repeats, 3)
    return timed


def throughput(dataset: Dataset, root: Path, batch: int, args: argparse.Namespace, device: torch.device) -> dict:
    train = to_split(*load_splits(dataset, dataset.path(root))["train"], dataset.spatial_dims, device)
    paths = {"official": Official(dataset, root, batch, args.workers, device, seed=0, augment=args.augment)}
    for name in args.variants:
        paths[f"ours[{name}]"] = Ours(dataset, train, _variant(Recipe(batch_size=batch), name, args.augment), device, seed=0)
    for path in paths.values():  # warm-up: allocator, kernels, compilation
        path.run(args.warmup)
    per_repeat = {name: [] for name in paths}
    for _ in range(args.repeats):
        for name, path in paths.items():
            began = time.perf_counter()
            seen = path.run(args.steps)
            per_repeat[name].append(seen / (time.perf_counter() - began))
    forward = flops_per_image(paths["official"].model, train.images[:1])
    rates = {name: statistics.median(values) for name, values in per_repeat.items()}
    print(f"{dataset.id}: " + ", ".join(f"{name} {rate:.1f} img/s" for name, rate in rates.items()), file=sys.stderr, flush=True)
    return {
        "dataset": dataset.id,
        "batch_size": batch,
        "train_images": len(train.images),
        "forward_flops_per_image": forward,
        "images_per_second": {name: round(rate, 2) for name, rate in rates.items()},
        "images_per_second_each_repeat": {name: [round(v, 2) for v in values] for name, values in per_repeat.items()},
        "ratio_vs_official": {name: round(rate / rates["official"], 3) for name, rate in rates.items() if name != "official"},
        "achieved_tflops": {name: round(3 * forward * rate / 1e12, 4) for name, rate in rates.items()},
        "host_syncs_in_step": {name: path.syncs_in_step() for name, path in paths.items() if name != "official"},
        **({"augmentation_ms_per_batch": augmentation_cost(dataset, root, train, batch, args.augment, device)} if args.augment else {}),
    }


def short_training(dataset: Dataset, root: Path, batch: int, epochs: int, seed: int, device: torch.device, variant: str, width: float) -> dict:
    """Both paths trained ``epochs`` epochs from the same initial weights; each one's test AUC."""
    recipe = _variant(Recipe(epochs=epochs, batch_size=batch), variant)
    official = Official(dataset, root, batch, 0, device, seed, width)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(official.optimizer, recipe.milestone_epochs(), gamma=recipe.gamma)
    per_epoch = len(official.loader)
    for _ in range(epochs):
        official.run(per_epoch)
        scheduler.step()
    test = official_dataset(dataset, "test", root)
    scores = official_scores(official.model, DataLoader(test, batch_size=batch), dataset.task, device)
    official_auc = evaluate(dataset.task, test.labels, scores)["auc"]

    arrays = load_splits(dataset, dataset.path(root))
    splits = {name: to_split(x, y, dataset.spatial_dims, device) for name, (x, y) in arrays.items()}
    ours = Ours(dataset, splits["train"], recipe, device, seed, width)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(ours.trainer.optimizer, recipe.milestone_epochs(), gamma=recipe.gamma)
    for _ in range(epochs):
        order = torch.randperm(len(splits["train"].images), generator=ours.generator).to(device)
        ours.trainer.epoch(splits["train"], order, batch)
        scheduler.step()
    ours_auc = ours.trainer.score(splits["test"], recipe.eval_batch_size)[0]["auc"]
    print(f"short training, seed {seed}: test AUC official {official_auc:.4f}, ours {ours_auc:.4f}", file=sys.stderr, flush=True)
    return {"dataset": dataset.id, "epochs": epochs, "seed": seed, "widen_factor": width, "test_auc": {"official": round(official_auc, 4), f"ours[{variant}]": round(ours_auc, 4)}}


def _batch(dataset: Dataset) -> int:
    """The published recipe's batch size."""
    return 128 if dataset.spatial_dims == 2 else 32


def _arithmetic(path: str, device: torch.device) -> str:
    """"fp32" or "bf16": what a timed path ("official", "ours[bf16+compile]"...) computes in."""
    precision = path.removeprefix("ours[").removesuffix("]").partition("+")[0] if path.startswith("ours[") else "fp32"
    return "bf16" if autocast_dtype(precision, device) else "fp32"


def matmul_peak_tflops(device: torch.device, dtype: torch.dtype, repeats: int = 10) -> float:
    """TFLOP/s of square matrix products in ``dtype`` on ``device``: the practical peak a
    training step's achieved rate is measured against."""
    n = 8192 if device.type == "cuda" else 2048
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    a @ b
    _sync(device)
    began = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    return round(2 * n**3 * repeats / (time.perf_counter() - began) / 1e12, 3)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), flags=re.M)
    return f"{model.group(1) if model else 'CPU'}, {torch.get_num_threads()} threads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=3, help="batches per timed repetition")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="batches run by each path before timing")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--workers", type=int, default=0, help="official DataLoader workers (the experiments use 0)")
    parser.add_argument("--datasets", type=lambda s: [d for d in s.split(",") if d], default=["pneumoniamnist", "adrenalmnist3d"], help="timed sets (batch 128 in 2-D, 32 in 3-D); empty: none")
    parser.add_argument("--variants", type=lambda s: s.split(","), default=["auto"], help="engine precisions, e.g. fp32,bf16,bf16+compile")
    parser.add_argument("--augment", type=int, default=0, help="timed paths flip and shift training images by up to this many pixels (0: none)")
    parser.add_argument("--check-dataset", default="breastmnist")
    parser.add_argument("--check-epochs", type=int, default=2, help="0 skips the short training")
    parser.add_argument("--check-seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0])
    parser.add_argument("--check-width", type=float, default=1.0, help="ResNet-18 widen_factor of the short training")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    root = Path(os.environ["DLMIA_DATA"])

    results = [throughput(dataset, root, _batch(dataset), args, device) for dataset in map(Dataset.from_id, args.datasets)]
    checks = []
    if args.check_epochs:
        dataset = Dataset.from_id(args.check_dataset)
        checks = [short_training(dataset, root, _batch(dataset), args.check_epochs, seed, device, args.variants[0], args.check_width) for seed in args.check_seeds]
    name = device_name(device)
    peak = {"fp32": matmul_peak_tflops(device, torch.float32), "bf16": matmul_peak_tflops(device, torch.bfloat16)}
    for r in results:  # the share of that peak each path reached, in its own arithmetic
        r["share_of_matmul_peak"] = {path: round(tflops / peak[_arithmetic(path, device)], 4) for path, tflops in r["achieved_tflops"].items()}
    report = {
        "device": name,
        "matmul_peak_tflops": peak,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "official_workers": args.workers,
        "augment_pixels": args.augment,
        "steps": args.steps,
        "repeats": args.repeats,
        "throughput": results,
        "short_training": checks,
        "command": " ".join(sys.argv),
    }
    out = args.out or REPO / "benchmarks" / "results" / f"training_throughput_{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")

    print(f"{name} | torch {torch.__version__} | matmul peak fp32 {peak['fp32']} TFLOP/s, bf16 {peak['bf16']} TFLOP/s | {out}")
    print(f"{'dataset':<16}{'path':<24}{'img/s':>10}{'× official':>12}{'TFLOP/s':>10}{'of peak':>9}  syncs in step")
    for r in results:
        for path, rate in r["images_per_second"].items():
            ratio, share = r["ratio_vs_official"].get(path, 1.0), r["share_of_matmul_peak"][path]
            print(f"{r['dataset']:<16}{path:<24}{rate:>10.1f}{ratio:>12.2f}{r['achieved_tflops'][path]:>10.3f}{share:>9.1%}  {r['host_syncs_in_step'].get(path, '')}")
        print(f"{'':<16}forward GFLOP/image {r['forward_flops_per_image'] / 1e9:.3f} (training counted as 3× forward)")
        if "augmentation_ms_per_batch" in r:
            cost = r["augmentation_ms_per_batch"]
            print(f"{'':<16}flip and shift alone, ms per batch: official (per sample) {cost['official']}, ours (batched) {cost['ours']}")
    for c in checks:
        print(f"short training {c['dataset']}, width {c['widen_factor']}, {c['epochs']} epochs, seed {c['seed']}: test AUC " + ", ".join(f"{k} {v:.4f}" for k, v in c["test_auc"].items()))


if __name__ == "__main__":
    main()
