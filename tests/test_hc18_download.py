"""HC18 from Zenodo: download, resume, checksum and refusal, against a real HTTP server on
127.0.0.1 that serves an archive in the official layout (``training_set/NNN_HC.png`` and
``NNN_HC_Annotation.png``) built from the HC18 images in the data folder."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from replay import ReplayHandler, serve
from workflow.data import hc18
from workflow.data.download import md5sum
from workflow.data.hc18 import CSV as HC18_CSV
from workflow.data.hc18 import FOLDER as HC18
from workflow.data.segmentation import SegmentationDataError
from workflow.data.segmentation_datasets import prepare

HALF = object()  # answer: announce the whole file, send half, close the connection


class Zenodo(ReplayHandler):
    """Serves ``files`` by name; ``plan`` holds, per name, answers to use before the file
    itself: an HTTP status or HALF. Honours ``Range: bytes=N-`` with 206."""

    files: dict[str, bytes] = {}
    plan: dict[str, list] = {}
    requests: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        ranged = self.headers.get("Range")
        type(self).requests.append((name, ranged))
        body = self.files.get(name)
        answer = self.plan.get(name, []).pop(0) if self.plan.get(name) else None
        if body is None:
            self.send(404, b"not found")
        elif isinstance(answer, int):
            self.send(answer, b"refused")
        elif answer is HALF:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])  # HTTP/1.0: the connection closes here
        elif ranged:
            start = int(re.fullmatch(r"bytes=(\d+)-", ranged).group(1))
            self.send(206, body[start:], {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"})
        else:
            self.send(200, body)


@pytest.fixture(scope="module")
def official(data_root: Path) -> dict[str, bytes]:
    """training_set.zip in the official layout and the CSV, from the data folder's HC18 copy."""
    source = data_root / "segmentation" / HC18
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for png in sorted((source / "training_set").glob("*.png")):
            bundle.write(png, f"training_set/{png.name}")
    return {"training_set.zip": archive.getvalue(), "training_set_pixel_size_and_HC.csv": (source / "training_set_pixel_size_and_HC.csv").read_bytes()}


@pytest.fixture
def zenodo(official: dict[str, bytes]):
    Zenodo.files, Zenodo.plan, Zenodo.requests = dict(official), {}, []
    with serve(Zenodo) as url:
        yield hc18.Release(
            base_url=f"{url}/records/1327317/files",
            archive_md5=_md5(official["training_set.zip"]),
            csv_md5=_md5(official["training_set_pixel_size_and_HC.csv"]),
        )


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()


def _left_behind(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_download_extracts_the_official_layout_and_loads_like_the_provided_copy(data_root: Path, tmp_path: Path, zenodo: hc18.Release):
    root = tmp_path / "segmentation"
    folder = hc18.ensure(root, zenodo, backoff=0.01)
    assert folder == root / HC18 and hc18.present(root)
    provided = data_root / "segmentation" / HC18 / "training_set"
    assert sorted(p.name for p in (folder / "training_set").iterdir()) == sorted(p.name for p in provided.iterdir())
    assert md5sum(folder / "training_set" / "000_HC.png") == md5sum(provided / "000_HC.png")
    assert _left_behind(root) == sorted([HC18_CSV, f"{HC18}/MD5SUMS", *(f"{HC18}/training_set/{p.name}" for p in provided.iterdir())])
    (downloaded, card), (shipped, provided_card) = (prepare("hc18", r, {"size": [32, 32]}) for r in (root, data_root / "segmentation"))
    for split in ("train", "val", "test"):
        assert np.array_equal(downloaded[split].labels, shipped[split].labels) and list(downloaded[split].names) == list(shipped[split].names)
    assert card["n_samples"] == provided_card["n_samples"] == {"train": 157, "val": 25, "test": 18}  # docs/segmentation.md
    assert card["n_cases"]["train"] < 157 and card["license"].startswith("CC BY 4.0") and "PLoS ONE" in card["citation"]
    assert (card["checksums"], provided_card["checksums"]) == (f"segmentation/{HC18}/MD5SUMS", "segmentation/MD5SUMS")
    assert card["md5"]["training_set.zip"] == "00eb8198b9a505b2b3a6dfc740382497"
    # a second call finds the folder and asks for nothing
    requests = len(Zenodo.requests)
    hc18.ensure(root, zenodo, backoff=0.01)
    assert len(Zenodo.requests) == requests == 2


def test_an_extracted_file_changed_later_fails_its_md5(tmp_path: Path, zenodo: hc18.Release):
    root = tmp_path / "segmentation"
    hc18.ensure(root, zenodo, backoff=0.01)
    image = root / HC18 / "training_set" / "001_HC.png"
    image.write_bytes(image.read_bytes()[:-1])
    with pytest.raises(SegmentationDataError, match=f"{image}: md5 .* does not match"):
        prepare("hc18", root, {"size": [32, 32]})


def test_an_interrupted_transfer_resumes_where_it_stopped(tmp_path: Path, zenodo: hc18.Release, official: dict[str, bytes]):
    Zenodo.plan = {"training_set.zip": [HALF]}
    root = tmp_path / "segmentation"
    hc18.ensure(root, zenodo, backoff=0.01)
    size = len(official["training_set.zip"])
    assert [r for r in Zenodo.requests if r[0] == "training_set.zip"] == [("training_set.zip", None), ("training_set.zip", f"bytes={size // 2}-")]
    assert hc18.present(root) and len(list((root / HC18 / "training_set").iterdir())) == 400


def test_a_server_error_is_retried(tmp_path: Path, zenodo: hc18.Release):
    Zenodo.plan = {"training_set_pixel_size_and_HC.csv": [503, 429]}
    hc18.ensure(tmp_path, zenodo, backoff=0.01)
    assert [r[0] for r in Zenodo.requests].count("training_set_pixel_size_and_HC.csv") == 3 and hc18.present(tmp_path)


def test_a_checksum_mismatch_stops_and_keeps_nothing_under_the_final_names(tmp_path: Path, zenodo: hc18.Release):
    Zenodo.files["training_set.zip"] = Zenodo.files["training_set.zip"][:-100] + bytes(100)
    root = tmp_path / "segmentation"
    with pytest.raises(SegmentationDataError) as error:
        hc18.ensure(root, zenodo, backoff=0.01)
    message = str(error.value)
    assert f"{zenodo.base_url}/training_set.zip" in message and str(root / HC18 / "training_set.zip") in message
    assert f"does not match the official {zenodo.archive_md5}" in message and "Download training_set.zip" in message
    assert [r[0] for r in Zenodo.requests].count("training_set.zip") == 1  # a complete, wrong file is not fetched again
    assert not hc18.present(root) and not (root / HC18_CSV).exists() and not (root / HC18 / "training_set").exists()
    assert _left_behind(root) == [f"{HC18}/.csv.download"]  # the verified CSV, kept for the next attempt


def test_a_refused_request_names_the_url_the_destination_and_what_to_do(tmp_path: Path, zenodo: hc18.Release):
    Zenodo.plan = {"training_set_pixel_size_and_HC.csv": [403]}
    with pytest.raises(SegmentationDataError) as error:
        hc18.ensure(tmp_path, zenodo, backoff=0.01)
    message = str(error.value)
    assert "HTTP Error 403" in message and f"{zenodo.base_url}/training_set_pixel_size_and_HC.csv" in message
    assert str(tmp_path / HC18) in message and "DLMIA_DATA" in message and "10.5281/zenodo.1327317" in message
    assert len(Zenodo.requests) == 1 and _left_behind(tmp_path) == []


def test_an_archive_outside_the_official_layout_is_refused(tmp_path: Path, zenodo: hc18.Release):
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("../escape.png", b"x")
    Zenodo.files["training_set.zip"] = bundle.getvalue()
    release = hc18.Release(zenodo.base_url, _md5(bundle.getvalue()), zenodo.csv_md5)
    with pytest.raises(SegmentationDataError, match="not the HC18 layout"):
        hc18.ensure(tmp_path, release, backoff=0.01)
    assert not (tmp_path.parent / "escape.png").exists() and not hc18.present(tmp_path)
