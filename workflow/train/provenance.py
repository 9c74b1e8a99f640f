"""Where a result came from: package versions, device, host and time."""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from importlib import metadata

import torch

PACKAGES = ("torch", "monai", "medmnist", "numpy", "scikit-learn", "pandas", "snakemake")


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment(device: torch.device) -> dict:
    return {"versions": versions(), "device": device_description(device), "host": platform.node(), "platform": platform.platform()}
