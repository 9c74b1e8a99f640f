import time

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from workflow.trust.latency import measure_latency

KEYS = {
    "latency_ms_median", "latency_ms_p95", "repeats", "warmup", "throughput_batch", "throughput_images_per_s",
    "throughput_stopped_by", "threads", "device",
}


def is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def test_a_tiny_linear_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4)).eval()
    result = measure_latency(model, torch.randn(1, 3, 8, 8), repeats=20, warmup=2, max_batch=64)
    assert set(result) == KEYS
    assert 0 < result["latency_ms_median"] <= result["latency_ms_p95"]
    assert result["repeats"] == 20 and result["warmup"] == 2
    assert is_power_of_two(result["throughput_batch"]) and result["throughput_batch"] <= 64
    assert result["throughput_images_per_s"] > 0
    assert result["threads"] == torch.get_num_threads() and result["device"] == "cpu"


def test_latency_is_the_time_of_one_call_and_batches_stop_at_max_batch():
    calls: list[int] = []

    def forward(x: torch.Tensor) -> torch.Tensor:
        calls.append(len(x))
        assert torch.is_inference_mode_enabled()
        if len(x) == 1:
            time.sleep(0.002)
        return x.sum()

    result = measure_latency(forward, torch.zeros(1, 1, 4, 4), repeats=5, warmup=3, max_batch=100)
    assert 2.0 <= result["latency_ms_median"] < 100
    assert calls[:8] == [1] * 8  # warm-up, then the timed calls
    doubling = calls[8:15]
    assert doubling == [1, 2, 4, 8, 16, 32, 64]
    assert result["throughput_batch"] == 64 and result["throughput_stopped_by"] == "max_batch"
    assert set(calls[15:]) == {64} and len(calls[15:]) >= 3


@pytest.mark.parametrize(
    "error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), RuntimeError("CUDA error: out of memory")]
)
def test_out_of_memory_above_batch_8_keeps_batch_8(error: Exception):
    tried: list[int] = []

    def forward(x: torch.Tensor) -> torch.Tensor:
        tried.append(len(x))
        if len(x) > 8:
            raise error
        return x * 2

    result = measure_latency(forward, torch.ones(1, 2, 3), repeats=3, warmup=1, max_batch=256)
    assert result["throughput_batch"] == 8 and result["throughput_stopped_by"] == "out_of_memory"
    assert max(tried) == 16 and tried[-4:] == [8] * 4  # one warm-up call and at least 3 timed calls at 8


def test_other_errors_propagate():
    def forward(x: torch.Tensor) -> torch.Tensor:
        if len(x) > 2:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
        return x

    with pytest.raises(RuntimeError, match="shapes"):
        measure_latency(forward, torch.ones(1, 1, 2), repeats=2, warmup=0)


def test_a_slow_forward_stops_the_doubling_by_the_budget():
    tried: list[int] = []

    def forward(x: torch.Tensor) -> None:
        tried.append(len(x))
        time.sleep(0.005 * len(x))

    start = time.perf_counter()
    result = measure_latency(forward, torch.ones(1, 1, 2, 2), repeats=3, warmup=0, max_batch=1024, budget_s=0.05)
    assert time.perf_counter() - start < 2.0
    assert result["throughput_stopped_by"] == "budget"
    # Batches 1 to 4 take at most 20 ms; 16 takes 80 ms, over the budget, and is the last tried.
    assert 8 <= result["throughput_batch"] <= 16 and max(tried) == result["throughput_batch"]
    assert 100 < result["throughput_images_per_s"] <= 200  # 5 ms an image at most


def test_a_scikit_learn_model_behind_a_wrapper():
    rng = np.random.default_rng(0)
    classifier = LogisticRegression(max_iter=200).fit(rng.normal(size=(60, 12)), np.arange(60) % 3)

    def forward(x: torch.Tensor) -> np.ndarray:
        return classifier.predict_proba(x.reshape(len(x), -1).numpy())

    result = measure_latency(forward, torch.randn(1, 3, 2, 2), repeats=10, warmup=1, max_batch=32)
    assert result["throughput_batch"] == 32 and result["latency_ms_median"] > 0


def test_an_example_must_be_one_input():
    with pytest.raises(ValueError, match="one input"):
        measure_latency(lambda x: x, torch.ones(2, 3, 4, 4))
