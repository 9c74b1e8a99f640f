"""Robustness to image corruptions: MedMNIST-C for 2-D subsets, MONAI transforms for 3-D.

2-D subsets use the corruptions that MedMNIST-C (Di Salvo et al., 2024; package
``medmnistc``) defines per subset at five severities. Its table,
``medmnistc/corruptions/registry.py``, cannot be imported when one of the modules it
imports is missing (``enhance`` needs torchvision, ``filter`` needs torchvision and wand),
so :func:`medmnistc_corruptions` reads that file with ``ast`` and builds only the
corruptions whose module imports; the rest are returned by name with the reason. The
images are corrupted as the package's ``DatasetManager`` does: each image as a PIL
``RGB`` image, the result converted back to ``L`` for grayscale subsets. MedMNIST-C
defines its severities on 224-px images; applied to 28-px images the same parameters act
at a coarser scale (``pixelate`` at 0.1 leaves a 2-px image before upsampling).

3-D subsets have no MedMNIST-C definition; :func:`corruptions_3d` gives Gaussian noise,
Gaussian blur and a gamma contrast change at five severities with MONAI transforms.

:func:`robustness_scores` reports AUC, ACC and balanced accuracy per corruption and
severity and, where MedMNIST-C publishes a baseline for the subset, the normalised
balanced error (BE) and relative balanced error (rBE) computed by ``medmnistc.eval``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import random
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..train.metrics import MULTI_LABEL, evaluate

REGISTRY = "medmnistc.corruptions.registry"
SEVERITIES = (1, 2, 3, 4, 5)

# Why a dependency is missing here, for the reasons given for left-out corruptions;
# others are reported as not installed.
_MISSING_WHY = {
    "torchvision": "torchvision does not install beside the CPU build of torch",
    "wand": "wand (the ImageMagick bindings) is not installed",
}


def _registry_path() -> Path:
    spec = importlib.util.find_spec(REGISTRY)
    if spec is None or spec.origin is None:
        raise ImportError(f"{REGISTRY} not found; is the medmnistc package installed?")
    return Path(spec.origin)


def _missing_imports(module: str) -> list[str]:
    """Top-level packages imported at module level by ``module`` that are not installed."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    tree = ast.parse(Path(spec.origin).read_text())
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    missing = []
    for name in dict.fromkeys(names):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _import_reason(module: str, error: ImportError) -> str:
    missing = _missing_imports(module)
    if not missing and error.name:
        missing = [error.name.split(".")[0]]
    if not missing:
        return f"{module} does not import here: {error}"
    why = "; ".join(_MISSING_WHY.get(name, f"{name} is not installed") for name in missing)
    return f"{module} needs {' and '.join(missing)}: {why}"


@cache
def _corruptions(flag: str) -> tuple[dict[str, object], dict[str, str]]:
    path = _registry_path()
    tree = ast.parse(path.read_text(), filename=str(path))
    package = REGISTRY.rpartition(".")[0]
    classes: dict[str, tuple[str, str]] = {}  # name bound in registry.py -> (module, class)
    table = None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            for alias in node.names:
                classes[alias.asname or alias.name] = (module, alias.name)
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "CORRUPTIONS_DS" for target in node.targets
        ):
            table = node.value
    if not isinstance(table, ast.Dict):
        raise ValueError(f"{path}: no CORRUPTIONS_DS dictionary found")
    entry = next(
        (value for key, value in zip(table.keys, table.values) if isinstance(key, ast.Constant) and key.value == flag),
        None,
    )
    if entry is None:
        known = [key.value for key in table.keys if isinstance(key, ast.Constant)]
        raise ValueError(f"MedMNIST-C defines no corruptions for {flag!r}; it defines them for {', '.join(known)}")
    if not isinstance(entry, ast.Dict):
        raise ValueError(f"{path}: CORRUPTIONS_DS[{flag!r}] is not a dictionary literal")

    available: dict[str, object] = {}
    left_out: dict[str, str] = {}
    for key, call in zip(entry.keys, entry.values):
        name = ast.literal_eval(key)
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            left_out[name] = "its definition is not a call to a corruption class"
            continue
        class_name = call.func.id
        if class_name not in classes:
            left_out[name] = f"its class {class_name} is not imported by name in registry.py"
            continue
        module_name, attribute = classes[class_name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            left_out[name] = _import_reason(module_name, error)
            continue
        params = next((kw.value for kw in call.keywords if kw.arg == "severity_params"), None)
        if params is None and call.args:
            params = call.args[0]
        try:
            severity_params = ast.literal_eval(params) if params is not None else None
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            left_out[name] = "its severity parameters are not literal values"
            continue
        if severity_params is None:
            left_out[name] = "it has no severity parameters"
            continue
        available[name] = getattr(module, attribute)(severity_params=severity_params)
    return available, left_out


def medmnistc_corruptions(flag: str) -> tuple[dict[str, object], dict[str, str]]:
    """MedMNIST-C's corruptions for a 2-D subset, read without importing ``registry.py``.

    ``CORRUPTIONS_DS[flag]`` is found in the parsed source of the installed
    ``registry.py``; each class is resolved through that file's own ``from .module import
    Class`` statements, its module imported, and the object built with its severity
    parameters evaluated by ``ast.literal_eval``. Returns (corruption objects by name in
    registry order, left-out corruption name → reason). A flag without an entry (e.g. a
    3-D subset) raises ``ValueError``. Built once per flag; the objects are shared.
    """
    available, left_out = _corruptions(flag)
    return dict(available), dict(left_out)


def _check_severity(severity: int) -> int:
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in SEVERITIES:
        raise ValueError(f"severity must be an integer from 1 to 5, not {severity!r}")
    return int(severity)


_MISSING = object()


def corrupt_2d(images: np.ndarray, corruption, severity: int, seed: int) -> np.ndarray:
    """Apply one MedMNIST-C corruption at ``severity`` 1..5 to a uint8 batch.

    ``images`` is (N, H, W) grayscale or (N, H, W, 3) RGB. As in MedMNIST-C's
    ``DatasetManager``, each image is passed to ``corruption.apply`` as a PIL ``RGB``
    image (severity index ``severity - 1``) and a grayscale result is converted back with
    PIL's ``L`` conversion; the output has the input's shape and dtype. The global NumPy
    and ``random`` generators (drawn from by the noise and microscopy corruptions) are
    seeded with ``seed`` and restored afterwards, and ``corruption.rng`` (read by
    ``ImpulseNoise``) is set to ``np.random.default_rng(seed)`` for the call.
    """
    from PIL import Image

    severity = _check_severity(severity)
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8, not {images.dtype}")
    if images.ndim == 3:
        rgb = False
    elif images.ndim == 4 and images.shape[-1] == 3:
        rgb = True
    else:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3), not {images.shape}")

    numpy_state, python_state = np.random.get_state(), random.getstate()
    previous_rng = getattr(corruption, "rng", _MISSING)
    np.random.seed(seed)
    random.seed(seed)
    corruption.rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    try:
        for index, image in enumerate(images):
            result = corruption.apply(Image.fromarray(image).convert("RGB"), severity - 1)
            if not rgb:
                result = Image.fromarray(np.asarray(result, dtype=np.uint8)).convert("L")
            result = np.asarray(result)
            if result.shape != image.shape or result.dtype != np.uint8:
                raise ValueError(
                    f"{type(corruption).__name__} returned {result.dtype} {result.shape} for a "
                    f"{image.shape} image"
                )
            out[index] = result
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
        if previous_rng is _MISSING:
            del corruption.rng
        else:
            corruption.rng = previous_rng
    return out


# Severity parameters on [0, 1] intensities. Noise std 0.02-0.10 spans the gaussian_noise
# range MedMNIST-C uses for grayscale CT/X-ray subsets (0.04-0.20 on organ*mnist, 0.04-0.08
# on pneumoniamnist); blur sigma is in voxels of the 28^3 volume; gamma > 1 darkens
# mid-range intensities. The available 3-D subsets (adrenalmnist3d, vesselmnist3d) hold
# 0/255 shape volumes, on which a gamma change is an identity: it maps 0 and 1 to themselves.
SEVERITIES_3D: dict[str, tuple[float, ...]] = {
    "gaussian_noise": (0.02, 0.04, 0.06, 0.08, 0.10),  # std
    "gaussian_blur": (0.5, 0.75, 1.0, 1.25, 1.5),  # sigma, voxels
    "gamma_contrast": (1.2, 1.4, 1.6, 1.8, 2.0),  # gamma
}


def corruptions_3d(severities: dict | None = None) -> dict[str, Callable]:
    """3-D corruptions: name → ``factory(severity)`` returning a MONAI transform.

    ``gaussian_noise``: ``RandGaussianNoise(prob=1, std=s, sample_std=False)`` (a fixed
    std, not one drawn from [0, s]); ``gaussian_blur``: ``GaussianSmooth(sigma=s)`` (zero
    padding at the volume border); ``gamma_contrast``: ``AdjustContrast(gamma=s)``. The
    transforms take a channel-first (1, D, H, W) float volume on [0, 1]. ``severities``
    overrides entries of :data:`SEVERITIES_3D` (name → five values).
    """
    from monai.transforms import AdjustContrast, GaussianSmooth, RandGaussianNoise

    table = dict(SEVERITIES_3D)
    for name, values in (severities or {}).items():
        if name not in SEVERITIES_3D:
            raise ValueError(f"unknown 3-D corruption {name!r}; known: {', '.join(SEVERITIES_3D)}")
        values = tuple(float(value) for value in values)
        if len(values) != len(SEVERITIES):
            raise ValueError(f"{name}: {len(SEVERITIES)} severity values needed, got {len(values)}")
        table[name] = values
    makers = {
        "gaussian_noise": lambda s: RandGaussianNoise(prob=1.0, mean=0.0, std=s, sample_std=False),
        "gaussian_blur": lambda s: GaussianSmooth(sigma=s),
        "gamma_contrast": lambda s: AdjustContrast(gamma=s),
    }

    def factory(name: str) -> Callable:
        def make(severity: int):
            return makers[name](table[name][_check_severity(severity) - 1])

        return make

    return {name: factory(name) for name in SEVERITIES_3D}


def corrupt_3d(
    volumes: np.ndarray, name: str, severity: int, seed: int, severities: dict | None = None
) -> np.ndarray:
    """Apply a 3-D corruption to uint8 volumes (N, D, H, W); returns uint8 of that shape.

    Each volume is scaled to [0, 1], transformed as (1, D, H, W), and brought back with
    ``round(255 x)`` clipped to 0..255. Random transforms draw from a generator seeded with
    ``seed`` (one draw per volume, in order), so a seed gives the same output every time.
    Blur filters the whole batch in one call.
    """
    from monai.transforms import GaussianSmooth, Randomizable
    from monai.utils import convert_to_numpy

    factories = corruptions_3d(severities)
    if name not in factories:
        raise ValueError(f"unknown 3-D corruption {name!r}; known: {', '.join(factories)}")
    volumes = np.asarray(volumes)
    if volumes.dtype != np.uint8 or volumes.ndim != 4:
        raise ValueError(f"volumes must be uint8 (N, D, H, W), not {volumes.dtype} {volumes.shape}")
    transform = factories[name](severity)
    if isinstance(transform, Randomizable):
        transform.set_random_state(seed=seed)
    if len(volumes) == 0:
        return volumes.copy()
    scaled = volumes.astype(np.float32) / 255.0
    if isinstance(transform, GaussianSmooth):
        # It filters each channel on its own, so the whole batch goes through at once as
        # channels (a volume at a time is ~15x slower on CPU).
        result = np.asarray(convert_to_numpy(transform(scaled)))
    else:
        result = np.stack([np.asarray(convert_to_numpy(transform(volume[None])))[0] for volume in scaled])
    return np.clip(np.rint(result.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)


def _scores(task: str, labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, ACC and balanced accuracy as the benchmark scores them: the balanced accuracy of
    ``workflow.train.metrics.evaluate`` (argmax, or each label above 0.5) is MedMNIST-C's
    operating point too (a binary task's last column above 0.5 is its argmax)."""
    metrics = evaluate(task, labels, scores)
    return {k: metrics[k] for k in ("auc", "acc", "balanced_acc")}


class _ZeroError(float):
    """A clean error of exactly 0 that passes ``Evaluator.populate_summary``'s truth test.

    It compares and computes as 0.0, so BE and rBE are what the formulas give for a
    perfect clean score.
    """

    def __bool__(self) -> bool:
        return True


def _medmnistc_summary(flag: str, task: str, labels: np.ndarray, clean: np.ndarray, corrupted: dict) -> dict:
    """``medmnistc.eval.Evaluator``'s summary for the given corruptions (no file written)."""
    from medmnistc.eval import Evaluator

    true = labels if task == MULTI_LABEL else labels.reshape(-1, 1)
    threshold = [0.5] * true.shape[1] if task == MULTI_LABEL else (0.5 if task == "binary-class" else None)
    evaluator = Evaluator(
        dataset_name=flag, true_labels=true, corruption_types=list(corrupted), output_folder="",
        architecture="model", task=task,
    )
    evaluator.evaluate_clean(clean, threshold=threshold)
    if evaluator.clean_score == 0:
        evaluator.clean_score = _ZeroError(0.0)
    for name, arrays in corrupted.items():
        evaluator.evaluate(np.concatenate(arrays, axis=0), name, threshold=threshold)
    evaluator.output_log = {}
    evaluator.populate_summary()
    return evaluator.output_log


def robustness_scores(
    flag: str,
    task: str,
    labels: np.ndarray,
    clean: np.ndarray,
    corrupted: dict[str, list[np.ndarray]],
    left_out: dict[str, str] | None = None,
) -> dict:
    """Scores on clean and corrupted test images, plus MedMNIST-C's BE and rBE.

    ``clean``: class scores (softmax probabilities, or per-label sigmoids for multi-label)
    on the clean test images; ``corrupted[name]``: five such arrays, severities 1..5, on
    the same images in the same order. Per corruption and severity: AUC and ACC
    (MedMNIST's evaluator) and balanced accuracy at MedMNIST-C's operating points. For flags
    with a MedMNIST-C baseline (``medmnistc.utils.baselines``), ``medmnistc.eval.Evaluator``
    computes BE (mean balanced error over severities / baseline error) and rBE ((mean error
    − clean error) / (baseline error − baseline clean error)) per corruption and their mean
    over the corruptions given; otherwise they are None and ``note`` says why. ``left_out``
    (e.g. from :func:`medmnistc_corruptions`) is copied into the result. Plain JSON types.
    """
    from medmnistc.utils.baselines import BASELINES

    labels, clean = np.asarray(labels), np.asarray(clean)
    n = len(labels)
    if len(clean) != n:
        raise ValueError(f"clean scores cover {len(clean)} images, labels {n}")
    arrays: dict[str, list[np.ndarray]] = {}
    for name, per_severity in corrupted.items():
        per_severity = [np.asarray(scores) for scores in per_severity]
        if len(per_severity) != len(SEVERITIES):
            raise ValueError(f"{name}: {len(SEVERITIES)} score arrays needed (severities 1..5), got {len(per_severity)}")
        for severity, scores in zip(SEVERITIES, per_severity):
            if scores.shape != clean.shape:
                raise ValueError(f"{name} severity {severity}: scores {scores.shape}, clean scores {clean.shape}")
        arrays[name] = per_severity

    result: dict = {
        "flag": flag,
        "task": task,
        "n_images": int(n),
        "clean": _scores(task, labels, clean),
        "corruptions": {},
        "be": None,
        "rbe": None,
        "baseline": None,
        "note": None,
        "left_out": {str(name): str(reason) for name, reason in (left_out or {}).items()},
    }
    result["clean"]["balanced_error"] = 1.0 - result["clean"]["balanced_acc"]  # the Evaluator's, where it runs
    for name, per_severity in arrays.items():
        rows = [{"severity": severity, **_scores(task, labels, scores)} for severity, scores in zip(SEVERITIES, per_severity)]
        result["corruptions"][name] = {
            "severities": rows,
            "mean_balanced_error": float(np.mean([1.0 - row["balanced_acc"] for row in rows])),
            "be": None,
            "rbe": None,
        }

    baseline = BASELINES.get(flag)
    if baseline is None:
        result["note"] = (
            f"MedMNIST-C publishes no baseline for {flag} (it covers the 2-D subsets "
            f"{', '.join(BASELINES)}), so BE and rBE are not defined"
        )
        return result
    scored = [name for name in arrays if name in baseline["raw_scores"]]
    unscored = [name for name in arrays if name not in baseline["raw_scores"]]
    notes = [
        "BE and rBE are normalised by MedMNIST-C's published baseline errors, measured on its "
        "224-px corrupted test sets; the overall BE and rBE are means over the corruptions scored here"
    ]
    if unscored:
        notes.append(f"no baseline error for {', '.join(unscored)}, so no BE or rBE for them")
    result["note"] = "; ".join(notes)
    result["baseline"] = {
        "clean_error": float(baseline["clean_score"]),
        "errors": {name: float(baseline["raw_scores"][name]) for name in scored},
    }
    if not scored:
        return result
    summary = _medmnistc_summary(flag, task, labels, clean, {name: arrays[name] for name in scored})
    result["clean"]["balanced_error"] = float(summary["metrics"]["clean_score"])
    for name in scored:
        result["corruptions"][name]["be"] = float(summary["be_scores"][name])
        result["corruptions"][name]["rbe"] = float(summary["rbe_scores"][name])
        result["corruptions"][name]["mean_balanced_error"] = float(summary["raw_scores"][name])
    result["be"] = float(summary["metrics"]["be"])
    result["rbe"] = float(summary["metrics"]["rbe"])
    return result
