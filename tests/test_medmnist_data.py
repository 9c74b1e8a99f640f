import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from replay import ReplayHandler, serve
from workflow.data.medmnist import INFO, Dataset, DatasetError, card, download, load_splits, md5sum, modality_table, verify

BREAST = Dataset("breastmnist")


class Replay(ReplayHandler):
    """Serves a queue of (status, body) answers, then the last one for good; status 0 sends
    the headers of the whole body and half of it, then closes the connection. Records each
    request's Range header."""

    answers: list[tuple[int, bytes]] = []
    hits = 0
    ranges: list[str | None] = []

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        type(self).ranges.append(self.headers.get("Range"))
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if status == 0:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
        else:
            self.send(status, body)


@pytest.fixture
def server():
    Replay.hits, Replay.ranges = 0, []
    with serve(Replay) as url:
        yield f"{url}/breastmnist.npz"


def test_every_flag_has_a_modality():
    table = modality_table()
    assert set(table) == set(INFO)
    assert {row["modality"] for row in table.values()} == {"X-ray", "CT", "MRI", "ultrasound", "fundus", "other"}
    assert Dataset("vesselmnist3d").modality == "MRI" and Dataset("breastmnist").modality == "ultrasound"
    assert Dataset("retinamnist").modality == "fundus"  # the column DRIVE's segmentation fills too


def test_dataset_ids_follow_medmnist_file_names(tmp_path: Path):
    assert Dataset.from_id("adrenalmnist3d_64") == Dataset("adrenalmnist3d", 64)
    assert Dataset("adrenalmnist3d", 64).path(tmp_path) == tmp_path / "medmnist" / "adrenalmnist3d_64.npz"
    assert Dataset("adrenalmnist3d", 64).md5 == INFO["adrenalmnist3d"]["MD5_64"]
    with pytest.raises(DatasetError, match="unknown MedMNIST flag 'nosuchmnist'"):
        Dataset("nosuchmnist")


@pytest.mark.parametrize("dataset", ["breastmnist", "pneumoniamnist", "retinamnist", "adrenalmnist3d", "vesselmnist3d", "adrenalmnist3d_64"])
def test_real_files_pass_the_official_md5_and_split_sizes(data_root: Path, dataset: str):
    ds = Dataset.from_id(dataset)
    description = card(ds, ds.path(data_root))
    assert description["md5"] == ds.md5
    assert description["n_samples"] == INFO[ds.flag]["n_samples"]
    assert len(description["image_shape"]) in (2, 3)


def test_corrupt_file_fails_naming_file_and_both_checksums(data_root: Path, tmp_path: Path):
    path = tmp_path / "breastmnist.npz"
    data = bytearray(BREAST.path(data_root).read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError) as error:
        verify(BREAST, path)
    message = str(error.value)
    assert str(path) in message and BREAST.md5 in message and md5sum(path) in message


def test_missing_file_names_the_path_and_where_to_get_it(tmp_path: Path):
    path = BREAST.path(tmp_path)
    with pytest.raises(DatasetError) as error:
        verify(BREAST, path)
    assert str(path) in str(error.value) and BREAST.url in str(error.value) and "DLMIA_DATA" in str(error.value)


def test_wrong_split_sizes_are_refused(tmp_path: Path):
    path = tmp_path / "small.npz"
    arrays = {f"{s}_{k}": np.zeros((3, 28, 28) if k == "images" else (3, 1), np.uint8) for s in ("train", "val", "test") for k in ("images", "labels")}
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="train split has 3 images and 3 labels, expected 546"):
        load_splits(BREAST, path)


def test_download_from_a_local_server_verifies_md5(data_root: Path, tmp_path: Path, server: str):
    Replay.answers = [(503, b"busy"), (200, BREAST.path(data_root).read_bytes())]
    dest = tmp_path / "medmnist" / "breastmnist.npz"
    download(BREAST, dest, url=server, backoff=0.01)
    assert Replay.hits == 2
    assert md5sum(dest) == BREAST.md5 and not dest.with_name("breastmnist.npz.part").exists()


def test_download_cut_short_is_retried_from_the_start_when_the_server_ignores_range(data_root: Path, tmp_path: Path, server: str):
    whole = BREAST.path(data_root).read_bytes()
    Replay.answers = [(0, whole), (200, whole)]  # the second answer ignores Range: a full 200
    dest = tmp_path / "medmnist" / "breastmnist.npz"
    download(BREAST, dest, url=server, backoff=0.01)
    assert Replay.ranges == [None, f"bytes={len(whole) // 2}-"]
    assert md5sum(dest) == BREAST.md5 and sorted(p.name for p in dest.parent.iterdir()) == ["breastmnist.npz"]


def test_download_cut_short_every_time_names_the_cause(data_root: Path, tmp_path: Path, server: str):
    whole = BREAST.path(data_root).read_bytes()
    Replay.answers = [(0, whole)]
    dest = tmp_path / "breastmnist.npz"
    with pytest.raises(DatasetError, match=f"failed after 4 attempt.s.: the connection closed after {len(whole) // 2:,} of {len(whole):,} bytes"):
        download(BREAST, dest, url=server, backoff=0.01)
    assert list(tmp_path.iterdir()) == []


def test_download_of_corrupt_bytes_leaves_no_file(data_root: Path, tmp_path: Path, server: str):
    Replay.answers = [(200, BREAST.path(data_root).read_bytes()[:-10])]
    dest = tmp_path / "breastmnist.npz"
    with pytest.raises(DatasetError, match=f"does not match the official {BREAST.md5}"):
        download(BREAST, dest, url=server, backoff=0.01)
    assert list(tmp_path.iterdir()) == []


def test_download_not_found_stops_at_once_with_advice(tmp_path: Path, server: str):
    Replay.answers = [(404, b"no")]
    dest = tmp_path / "breastmnist.npz"
    with pytest.raises(DatasetError, match="HTTP Error 404") as error:
        download(BREAST, dest, url=server, backoff=0.01)
    assert Replay.hits == 1 and str(dest) in str(error.value)
    assert list(tmp_path.iterdir()) == []


READ_IN_PLACE = """
import sys
from pathlib import Path
from workflow.data.medmnist import Dataset, load_splits, verify
path = Path(sys.argv[1])
try:
    (path.parent / "probe").write_text("x")
    sys.exit("the folder is writable")
except OSError:
    pass
dataset = Dataset("breastmnist")
print(verify(dataset, path), len(load_splits(dataset, path)["train"][0]))
"""


def test_read_only_copy_is_used_in_place(data_root: Path, tmp_path: Path):
    """On a read-only filesystem (a read-only bind mount in a private mount namespace when
    running as root, whom file modes do not stop; file modes otherwise) the file is
    checked and read where it is."""
    folder = tmp_path / "medmnist"
    folder.mkdir()
    shutil.copy(BREAST.path(data_root), folder / "breastmnist.npz")
    command = [sys.executable, "-c", READ_IN_PLACE, str(folder / "breastmnist.npz")]
    if os.geteuid() == 0:
        if not shutil.which("unshare") or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
            pytest.skip("running as root without mount namespaces: no read-only filesystem to test on")
        mount = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && exec \"$@\""
        command = ["unshare", "-m", "sh", "-c", mount, "sh", *command]
    else:
        folder.chmod(0o555)
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [BREAST.md5, "546"]
    assert sorted(p.name for p in folder.iterdir()) == ["breastmnist.npz"]