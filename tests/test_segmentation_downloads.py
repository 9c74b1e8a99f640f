"""Decathlon tasks (MRI, CT) and the Montgomery chest X-ray set: download, resume, checksum,
refusal and the cards' checks, against a real HTTP server on 127.0.0.1 serving archives in
each official layout built from the real volumes and images in the data folder.

Archives: six real hippocampus pairs of the data folder's copy as ``Task04_Hippocampus``
(with the TotalSegmentator MR example, whose 23 labels a hippocampus task does not
describe); the TotalSegmentator CT example, its label 1 (spleen) as the mask, whole and in
slabs, for ``Task09_Spleen`` (a stand-in); HC18 images with their filled annotation cut into
a left and a right half for ``MontgomerySet`` (a stand-in).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nibabel
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from test_hc18_download import HALF, Zenodo
from replay import serve
from workflow.data import decathlon, montgomery, segmentation_datasets, volumes
from workflow.data.hc18 import fill_outline
from workflow.data.segmentation import SegmentationDataError, read_md5sums, split_of

HIPPOCAMPUS, SPLEEN = "Task04_Hippocampus", "Task09_Spleen"
MONTGOMERY_ZIP = "NLM-MontgomeryCXRSet.zip"


class Mirror(Zenodo):
    """The same answers as the HC18 server, with files and plans of its own."""

    files: dict[str, bytes] = {}
    plan: dict[str, list] = {}
    requests: list[tuple[str, str | None]] = []


def _nifti(array: np.ndarray, spacing: tuple[float, ...]) -> bytes:
    return gzip.compress(nibabel.Nifti1Image(array, np.diag([*spacing[:3], 1.0])).to_bytes(), compresslevel=1)


def _task_tar(task: str, description: dict, training: dict[str, tuple[bytes, bytes]], test: dict[str, bytes]) -> bytes:
    """A Decathlon archive: ``task/dataset.json``, imagesTr/, labelsTr/, imagesTs/ and a macOS fork."""
    description = {
        **description,
        "numTraining": len(training),
        "numTest": len(test),
        "training": [{"image": f"./imagesTr/{n}.nii.gz", "label": f"./labelsTr/{n}.nii.gz"} for n in training],
        "test": [f"./imagesTs/{n}.nii.gz" for n in test],
    }
    members = {f"{task}/dataset.json": json.dumps(description, indent=4).encode()}
    for name, (image, label) in training.items():
        members[f"{task}/imagesTr/{name}.nii.gz"], members[f"{task}/labelsTr/{name}.nii.gz"] = image, label
    members |= {f"{task}/imagesTs/{name}.nii.gz": image for name, image in test.items()}
    members[f"{task}/imagesTr/._{next(iter(training))}.nii.gz"] = b"\x00\x05\x16\x07"  # AppleDouble magic
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _common(name: str, modality: str, labels: dict[str, str]) -> dict:
    return {"name": name, "description": "stand-in", "reference": "stand-in", "licence": "CC-BY-SA 4.0", "release": "1.0",
            "tensorImageSize": "3D", "modality": {"0": modality}, "labels": labels}


@pytest.fixture(scope="module")
def official(data_root: Path) -> dict[str, bytes]:
    seg = data_root / "segmentation"
    mri = {}
    for number in ("001", "003", "004", "006", "035", "040"):  # the copy's own pairs, in the official layout
        name = f"hippocampus_{number}.nii.gz"
        mri[f"hippocampus_{number}"] = ((seg / "msd_task04_hippocampus" / "images" / name).read_bytes(), (seg / "msd_task04_hippocampus" / "labels" / name).read_bytes())
    examples = seg / "totalsegmentator_examples"
    mr, mr_labels = (np.asarray(nibabel.load(examples / f).dataobj) for f in ("example_mr_sm.nii.gz", "example_seg_mr.nii.gz"))
    mri["hippocampus_900"] = (_nifti(mr, (3, 3, 3)), _nifti(mr_labels, (3, 3, 3)))  # 23 labels: set aside
    ct, organs = (np.asarray(nibabel.load(examples / f).dataobj) for f in ("example_ct_sm.nii.gz", "example_seg.nii.gz"))
    spleen = (organs == 1).astype(np.uint8)
    ct_cases = {
        "spleen_1": (_nifti(ct, (3, 3, 3)), _nifti(spleen, (3, 3, 3))),
        "spleen_2": (_nifti(ct[..., :16], (3, 3, 3)), _nifti(spleen[..., :16], (3, 3, 3))),
        "spleen_3": (_nifti(ct[..., 10:], (3, 3, 3)), _nifti(spleen[..., 10:], (3, 3, 3))),
        "spleen_4": (_nifti(ct, (3, 3, 3)), _nifti(spleen, (3, 3, 4))),  # label on another grid
        "spleen_5": (_nifti(ct, (3, 3, 30)), _nifti(spleen, (3, 3, 30))),  # 30 mm slices
        "spleen_6": (_nifti(ct, (3, 3, 3)), _nifti(spleen[..., 1:], (3, 3, 3))),  # a slice short
    }
    return {
        f"{HIPPOCAMPUS}.tar": _task_tar(HIPPOCAMPUS, _common("Hippocampus", "MRI", {"0": "background", "1": "Anterior", "2": "Posterior"}), mri, {"hippocampus_005": mri["hippocampus_900"][0]}),
        f"{SPLEEN}.tar": _task_tar(SPLEEN, _common("Spleen", "CT", {"0": "background", "1": "spleen"}), ct_cases, {"spleen_7": ct_cases["spleen_1"][0]}),
        MONTGOMERY_ZIP: _montgomery_zip(seg / "hc18_fetal_head_us" / "training_set"),
    }


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _montgomery_zip(hc18: Path) -> bytes:
    """MontgomerySet/CXR_png and ManualMask/{left,right}Mask: eight images, one without its right
    mask, one whose left mask is smaller than the image; and a member outside the layout."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for number, image in enumerate(sorted(hc18.glob("0[0-9][0-9]_HC.png"))[:8], start=1):
            name = f"MCUCXR_{number:04d}_{number % 2}.png"
            mask = fill_outline(np.asarray(Image.open(image.with_name(image.stem + "_Annotation.png")))).astype(np.uint8) * 255
            half = mask.shape[1] // 2
            left, right = mask.copy(), mask.copy()
            left[:, :half], right[:, half:] = 0, 0
            if number == 6:
                left = left[::2, ::2]
            bundle.writestr(f"MontgomerySet/CXR_png/{name}", image.read_bytes())
            bundle.writestr(f"MontgomerySet/ManualMask/leftMask/{name}", _png(left))
            if number != 5:
                bundle.writestr(f"MontgomerySet/ManualMask/rightMask/{name}", _png(right))
        bundle.writestr("MontgomerySet/CXR_png/Thumbs.db", b"\x00" * 16)
    return buffer.getvalue()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@dataclass
class Route:
    """One dataset's download from the local server: the archive's name and URL, its digest,
    ``ensure`` and ``present`` for a data root's ``segmentation`` folder."""

    archive: str
    url: str
    digest: str
    ensure: Callable[[Path], Path]
    present: Callable[[Path], bool]


@pytest.fixture
def routes(official: dict[str, bytes]):
    Mirror.files, Mirror.plan, Mirror.requests = dict(official), {}, []
    with serve(Mirror) as url:
        built = {}
        for task in (HIPPOCAMPUS, SPLEEN):
            release = decathlon.Release(task, f"{url}/{task}.tar", _md5(official[f"{task}.tar"]))
            built[task] = Route(
                f"{task}.tar", release.url, release.md5, lambda root, r=release: decathlon.ensure(root, r, backoff=0.01), lambda root, t=task: decathlon.present(root, t)
            )
        xray = montgomery.Release(f"{url}/imgs/collections/{MONTGOMERY_ZIP}", hashlib.sha256(official[MONTGOMERY_ZIP]).hexdigest())
        built["montgomery"] = Route(MONTGOMERY_ZIP, xray.url, xray.sha256, lambda root: montgomery.ensure(root, xray, backoff=0.01), montgomery.present)
        yield built


def _left_behind(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_the_archives_are_those_monai_records():
    from monai.apps import DecathlonDataset

    for task in (HIPPOCAMPUS, SPLEEN, "Task01_BrainTumour"):
        assert decathlon.release(task) == decathlon.Release(task, DecathlonDataset.resource[task], DecathlonDataset.md5[task])
    with pytest.raises(ValueError, match="no Decathlon task 'Task11_Knee'; known: Task01_BrainTumour"):
        decathlon.release("Task11_Knee")


def test_a_decathlon_task_is_extracted_checked_and_read_by_monai(tmp_path: Path, routes: dict[str, Route], official: dict[str, bytes]):
    from monai.apps import DecathlonDataset

    root = tmp_path / "segmentation"
    folder = routes[HIPPOCAMPUS].ensure(root)
    assert folder == root / HIPPOCAMPUS and decathlon.present(root, HIPPOCAMPUS)
    with tarfile.open(fileobj=io.BytesIO(official[f"{HIPPOCAMPUS}.tar"])) as bundle:
        volumes = sorted(m.name.removeprefix(f"{HIPPOCAMPUS}/") for m in bundle.getmembers() if "/._" not in m.name)
    assert _left_behind(root) == sorted(f"{HIPPOCAMPUS}/{n}" for n in [*volumes, "MD5SUMS"])  # no fork, no archive
    sums = read_md5sums(root)  # the MD5SUMS that segmentation.verify reads
    assert len(sums) == len(volumes) and sums[f"{HIPPOCAMPUS}/dataset.json"] == _md5((folder / "dataset.json").read_bytes())

    card = decathlon.card(folder, decathlon.Release(HIPPOCAMPUS, "u", "m"))
    assert card["set_aside"] == {"hippocampus_900": "label values [3, 4, 5, 6, 7] are not among the labels of dataset.json [0, 1, 2]"}
    numbers = ("001", "003", "004", "006", "035", "040")
    assert card["n_samples"] == {s: [split_of(f"hippocampus_{n}") for n in numbers].count(s) for s in ("train", "val", "test")}
    assert card["n_cases"] == {"training": 7, "test_unlabelled": 1} and card["modality"] == {"0": "MRI"}
    assert card["spacing_mm"]["min"] == card["spacing_mm"]["max"] == [1.0, 1.0, 1.0] and card["folder"] == f"segmentation/{HIPPOCAMPUS}"
    assert card["license"] == "CC BY-SA 4.0" and "Medical Segmentation Decathlon" in card["citation"] and card["source"].startswith("the Decathlon archive")
    assert card["checksums"] == f"segmentation/{HIPPOCAMPUS}/MD5SUMS"

    training = DecathlonDataset(root, HIPPOCAMPUS, "training", download=False, val_frac=0.25, cache_rate=0.0, progress=False)
    assert len(training) == 6 and training.get_properties("numTraining") == {"numTraining": 7}  # MONAI: 7 less int(7 × 0.25)
    requests = len(Mirror.requests)
    routes[HIPPOCAMPUS].ensure(root)  # found: nothing asked
    assert len(Mirror.requests) == requests == 1


@pytest.mark.parametrize("task", [HIPPOCAMPUS, SPLEEN])
def test_a_downloaded_task_is_trained_in_3d_and_scored_per_class(tmp_path: Path, routes: dict[str, Route], task: str):
    """The task's usable pairs, split by patient, through preprocessing (CT window or MRI
    z-score), patch training with validation and sliding-window testing: one row per test
    volume and foreground class of dataset.json."""
    from workflow.train.segmentation import SegmentationRecipe
    from workflow.train.volume_run import VolumeRunSpec, execute

    root = tmp_path / "segmentation"
    routes[task].ensure(root)
    description = volumes.prepare(task, root)  # the folder is there: MONAI's URL is not asked
    expected = {HIPPOCAMPUS: ("MRI", {1: "Anterior", 2: "Posterior"}), SPLEEN: ("CT", {1: "spleen"})}[task]
    assert (description["modality"], description["classes"]) == expected and len(Mirror.requests) == 1
    assert all(case["split"] == split_of(case["name"]) for case in description["cases"])
    assert {case["name"] for case in description["cases"]}.isdisjoint(description["card"]["set_aside"])
    (tmp_path / "description.json").write_text(json.dumps(description))
    spec = VolumeRunSpec(task, "tiny", "unet", {"channels": [4, 8, 16], "strides": [2, 2], "num_res_units": 0},
                         SegmentationRecipe(epochs=2, batch_size=2, samples=2, val_every=1), 0, (32, 32, 16), (3.0, 3.0, 3.0), 3.0,
                         window=(-57, 164) if task == SPLEEN else None)
    run = tmp_path / "run"
    metrics = execute(spec, tmp_path / "description.json", root, run / "metrics.json", run / "log.csv", run / "cases.csv", run / "predictions.npz")
    cases = pd.read_csv(run / "cases.csv")
    tests = [case["name"] for case in description["cases"] if case["split"] == "test"]
    scored = cases[cases["split"] == "test"]
    assert scored[["case", "class"]].values.tolist() == [[c, name] for c in tests for name in expected[1].values()]
    assert metrics["modality"] == expected[0] and metrics["test"]["cases"] == len(tests)
    validated = pd.read_csv(run / "log.csv")["val_dice"].notna().all()
    assert validated == any(case["split"] == "val" for case in description["cases"])


def test_ct_volumes_on_another_grid_or_outside_the_spacing_range_are_set_aside(tmp_path: Path, routes: dict[str, Route]):
    folder = routes[SPLEEN].ensure(tmp_path)
    card = decathlon.card(folder, decathlon.release(SPLEEN))
    assert card["set_aside"] == {
        "spleen_4": "label spacing (3.0, 3.0, 4.0) mm differs from the image's (3.0, 3.0, 3.0) mm",
        "spleen_5": "voxel spacing (3.0, 3.0, 30.0) mm is outside 0.2-10.0 mm",
        "spleen_6": "label shape (122, 101, 29) differs from the image's (122, 101, 30)",
    }
    assert sum(card["n_samples"].values()) == 3 and card["spacing_mm"]["median"] == [3.0, 3.0, 3.0]
    assert card["url"] == "https://msd-for-monai.s3-us-west-2.amazonaws.com/Task09_Spleen.tar" and card["md5"] == "410d4a301da4e5b2f6f86ec3ddba524e"


def test_montgomery_images_without_both_masks_of_their_size_are_set_aside(tmp_path: Path, routes: dict[str, Route]):
    folder = routes["montgomery"].ensure(tmp_path)
    assert folder == tmp_path / "MontgomerySet" and montgomery.present(tmp_path)
    assert (folder / "IGNORED").read_text() == "MontgomerySet/CXR_png/Thumbs.db\n" and not (folder / "CXR_png" / "Thumbs.db").exists()
    assert len(read_md5sums(tmp_path)) == 8 + 8 + 7 + 1
    usable, set_aside = montgomery.cases(tmp_path)
    assert set_aside == {"MCUCXR_0005_1": "no rightMask", "MCUCXR_0006_0": "leftMask is 400x270 px, the image 800x540"}
    kept = (1, 2, 3, 4, 7, 8)
    assert [case.name for case in usable] == [f"MCUCXR_000{n}_{n % 2}" for n in kept]
    assert [case.split for case in usable] == [split_of(f"{n:04d}") for n in kept]
    card = montgomery.card(tmp_path, usable, set_aside, montgomery.Release(routes["montgomery"].url, routes["montgomery"].digest))
    assert card["abnormal_images"] == 3 and card["left_out_of_archive"] == ["MontgomerySet/CXR_png/Thumbs.db"] and card["pixel_mm"] == [0.0875, 0.0875]
    assert card["sha256"] == routes["montgomery"].digest and card["checksums"] == "segmentation/MontgomerySet/MD5SUMS"


def test_montgomery_becomes_2d_splits_by_patient_with_both_lungs_in_one_mask(tmp_path: Path, routes: dict[str, Route]):
    folder = routes["montgomery"].ensure(tmp_path)
    splits, card = segmentation_datasets.prepare("montgomery", tmp_path, {"size": [64, 64], "tolerance_mm": 2.0})
    names = sorted(n for split in splits.values() for n in split.names)
    assert names == [f"MCUCXR_000{n}_{n % 2}" for n in (1, 2, 3, 4, 7, 8)] and set(card["set_aside"]) == {"MCUCXR_0005_1", "MCUCXR_0006_0"}
    for split, data in splits.items():
        assert data.images.shape[1:] == (1, 64, 64) and set(np.unique(data.labels)) <= {0, 1}
        assert all(split_of(name.split("_")[1]) == split for name in data.names)
    case = next(c for c in card["cases"] if c["name"] == "MCUCXR_0001_1")
    sample = segmentation_datasets.native("montgomery", tmp_path, case)
    left = np.asarray(Image.open(folder / "ManualMask" / "leftMask" / "MCUCXR_0001_1.png").convert("L")) > 127
    right = np.asarray(Image.open(folder / "ManualMask" / "rightMask" / "MCUCXR_0001_1.png").convert("L")) > 127
    assert left.any() and right.any() and not (left & right).any()
    assert np.array_equal(sample.label.astype(bool), left | right) and sample.spacing == (0.0875, 0.0875)  # both lungs, at full size


@pytest.mark.parametrize("name", [HIPPOCAMPUS, "montgomery"])
def test_an_interrupted_transfer_resumes_where_it_stopped(tmp_path: Path, routes: dict[str, Route], official: dict[str, bytes], name: str):
    route = routes[name]
    Mirror.plan = {route.archive: [HALF]}
    route.ensure(tmp_path)
    size = len(official[route.archive])
    assert Mirror.requests == [(route.archive, None), (route.archive, f"bytes={size // 2}-")] and route.present(tmp_path)


@pytest.mark.parametrize("name", [SPLEEN, "montgomery"])
def test_a_checksum_mismatch_stops_and_keeps_nothing(tmp_path: Path, routes: dict[str, Route], name: str):
    route = routes[name]
    Mirror.files[route.archive] = Mirror.files[route.archive][:-100] + b"\xff" * 100  # a tar ends in zeros
    with pytest.raises(SegmentationDataError) as error:
        route.ensure(tmp_path)
    message = str(error.value)
    assert f"/{route.archive}" in message and str(tmp_path / route.archive) in message
    assert f"does not match the official {route.digest}" in message and "DLMIA_DATA" in message
    assert len(Mirror.requests) == 1 and not route.present(tmp_path) and _left_behind(tmp_path) == []


def test_a_refused_request_names_the_url_the_destination_and_what_to_do(tmp_path: Path, routes: dict[str, Route]):
    Mirror.plan = {MONTGOMERY_ZIP: [403]}
    with pytest.raises(SegmentationDataError) as error:
        routes["montgomery"].ensure(tmp_path)
    message = str(error.value)
    assert "HTTP Error 403" in message and routes["montgomery"].url in message and str(tmp_path / MONTGOMERY_ZIP) in message
    assert montgomery.HOMEPAGE in message and _left_behind(tmp_path) == []


def test_an_archive_outside_the_layout_is_refused(tmp_path: Path, routes: dict[str, Route]):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        info = tarfile.TarInfo(f"{HIPPOCAMPUS}/../../escape.nii.gz")
        bundle.addfile(info, io.BytesIO(b""))
    Mirror.files[f"{HIPPOCAMPUS}.tar"] = buffer.getvalue()
    release = decathlon.Release(HIPPOCAMPUS, routes[HIPPOCAMPUS].url, _md5(buffer.getvalue()))
    with pytest.raises(SegmentationDataError, match=f"not the layout of Decathlon {HIPPOCAMPUS}"):
        decathlon.ensure(tmp_path / "segmentation", release, backoff=0.01)
    assert not (tmp_path / "escape.nii.gz").exists() and not decathlon.present(tmp_path / "segmentation", HIPPOCAMPUS)


def test_a_dataset_with_no_usable_case_is_named(tmp_path: Path, routes: dict[str, Route]):
    folder = routes[HIPPOCAMPUS].ensure(tmp_path)
    description = json.loads((folder / "dataset.json").read_text())
    description["training"] = [pair for pair in description["training"] if "900" in pair["image"]]
    (folder / "dataset.json").write_text(json.dumps(description))
    with pytest.raises(SegmentationDataError, match=f"Decathlon {HIPPOCAMPUS}: no usable training case under {folder}"):
        decathlon.card(folder, decathlon.release(HIPPOCAMPUS))
    folder = routes["montgomery"].ensure(tmp_path)
    for mask in (folder / "ManualMask" / "rightMask").iterdir():
        mask.unlink()
    with pytest.raises(SegmentationDataError, match=r"montgomery: no usable case under .*'MCUCXR_0001_1': 'no rightMask'"):
        segmentation_datasets.prepare("montgomery", tmp_path, {"size": [64, 64]})
