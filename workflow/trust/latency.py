"""Inference latency and throughput of a model's forward call.

Batch-1 latency is the wall time of single calls on one input (median and 95th
percentile). Throughput doubles the batch (1, 2, 4, ... up to a maximum) until memory
runs out or one call exceeds a time budget, then times a few calls at the largest batch
that ran. Any callable works: a torch module, or a wrapper around a scikit-learn model.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch

THROUGHPUT_CALLS = 3  # timed calls at the chosen batch, at least
THROUGHPUT_MIN_S = 0.25  # more calls, up to `repeats`, while the timed calls total less than this


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or (isinstance(error, RuntimeError) and "out of memory" in str(error))


def measure_latency(
    forward: Callable[[torch.Tensor], object],
    example: torch.Tensor,
    repeats: int = 50,
    warmup: int = 5,
    max_batch: int = 256,
    device: torch.device | None = None,
    budget_s: float = 2.0,
) -> dict[str, Any]:
    """Latency of `forward` on one input `example` of shape (1, C, *spatial), and throughput.

    The example is moved to `device` when given; CUDA is synchronised before each clock
    reading. Returns latency_ms_median, latency_ms_p95, repeats, warmup, throughput_batch,
    throughput_images_per_s, throughput_stopped_by ("max_batch", "out_of_memory" or
    "budget"), threads and device.
    """
    if example.ndim < 2 or example.shape[0] != 1:
        raise ValueError(f"example must be one input of shape (1, C, ...), not {tuple(example.shape)}")
    if repeats < 1 or warmup < 0 or max_batch < 1:
        raise ValueError("repeats and max_batch must be at least 1 and warmup at least 0")
    if device is not None:
        example = example.to(device)
    device = example.device
    cuda = device.type == "cuda"

    def clock() -> float:
        if cuda:
            torch.cuda.synchronize(device)
        return time.perf_counter()

    def timed(x: torch.Tensor) -> float:
        start = clock()
        forward(x)
        return clock() - start

    with torch.inference_mode():
        for _ in range(warmup):
            forward(example)
        latencies_ms = np.array([timed(example) for _ in range(repeats)]) * 1000.0

        # Doubling: one call per batch, which also warms up the batch kept unless a larger
        # batch ran out of memory after it.
        batch, kept, stopped_by = 1, 0, "max_batch"
        while batch <= max_batch:
            try:
                x = example.repeat(batch, *([1] * (example.ndim - 1)))
                elapsed = timed(x)
            except RuntimeError as error:  # torch.OutOfMemoryError is a RuntimeError
                if not _is_out_of_memory(error) or kept == 0:
                    raise
                if cuda:
                    torch.cuda.empty_cache()
                stopped_by = "out_of_memory"
                break
            kept = batch
            if elapsed > budget_s:
                stopped_by = "budget"
                break
            batch *= 2

        x = example.repeat(kept, *([1] * (example.ndim - 1)))
        if stopped_by == "out_of_memory":
            forward(x)
        times: list[float] = []
        while len(times) < THROUGHPUT_CALLS or (sum(times) < THROUGHPUT_MIN_S and len(times) < repeats):
            times.append(timed(x))

    return {
        "latency_ms_median": float(np.median(latencies_ms)),
        "latency_ms_p95": float(np.percentile(latencies_ms, 95)),
        "repeats": int(repeats),
        "warmup": int(warmup),
        "throughput_batch": int(kept),
        "throughput_images_per_s": float(kept * len(times) / max(sum(times), 1e-12)),
        "throughput_stopped_by": stopped_by,
        "threads": int(torch.get_num_threads()),
        "device": str(device),
    }
