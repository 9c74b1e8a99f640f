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


class Clock:
    """A stand-in for time.perf_counter that moves only when the forward says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self) -> float:
        return self.now


def _clocked(monkeypatch: pytest.MonkeyPatch, seconds) -> Clock:
    """A forward that records each input's shape and takes ``seconds(call, batch)`` on the stand-in clock."""
    import workflow.trust.latency as latency

    clock = Clock()
    monkeypatch.setattr(latency.time, "perf_counter", clock)

    def forward(x: torch.Tensor) -> None:
        clock.now += seconds(len(clock.shapes), len(x))
        clock.shapes.append(tuple(x.shape))

    clock.forward = forward
    return clock


def test_calls_in_order_warm_up_latency_doubling_and_throughput(monkeypatch: pytest.MonkeyPatch):
    clock = _clocked(monkeypatch, lambda call, batch: 0.001 * (call - 1) if 2 <= call < 22 else 0.0)
    result = measure_latency(clock.forward, torch.zeros(1, 2, 3), repeats=20, warmup=2, max_batch=8)
    batches = [shape[0] for shape in clock.shapes]
    # 2 warm-up calls, 20 timed ones of 1..20 ms, the doubling 1..8, then 20 calls at 8 (under 0.25 s in all: up to `repeats`)
    assert batches == [1] * 22 + [1, 2, 4, 8] + [8] * 20 and all(shape[1:] == (2, 3) for shape in clock.shapes)
    assert result["latency_ms_median"] == pytest.approx(10.5) and result["latency_ms_p95"] == pytest.approx(np.percentile(np.arange(1, 21), 95))
    assert (result["repeats"], result["warmup"], result["throughput_batch"], result["throughput_stopped_by"]) == (20, 2, 8, "max_batch")


def test_throughput_takes_three_calls_at_least_and_more_only_while_short(monkeypatch: pytest.MonkeyPatch):
    slow = _clocked(monkeypatch, lambda call, batch: 0.2 if batch == 4 and call > 5 else 0.0)
    result = measure_latency(slow.forward, torch.zeros(1, 1), repeats=5, warmup=0, max_batch=4)
    assert [shape[0] for shape in slow.shapes][-3:] == [4, 4, 4] and len(slow.shapes) == 5 + 3 + 3  # 0.6 s: no fourth call
    assert result["throughput_images_per_s"] == pytest.approx(4 * 3 / 0.6)


def test_the_budget_stops_the_doubling_only_when_exceeded_and_defaults(monkeypatch: pytest.MonkeyPatch):
    exact = _clocked(monkeypatch, lambda call, batch: 0.5 * batch / 4 if call >= 2 else 0.0)
    result = measure_latency(exact.forward, torch.zeros(1, 1), repeats=1, warmup=1, max_batch=16, budget_s=0.5)
    assert result["throughput_batch"] == 8 and result["throughput_stopped_by"] == "budget"  # 0.5 s at 4 is not over 0.5
    default = _clocked(monkeypatch, lambda call, batch: 0.01 * batch)
    result = measure_latency(default.forward, torch.zeros(1, 1))
    # 5 warm-up and 50 timed calls; 256 images take 2.56 s, over the 2 s budget
    assert (result["warmup"], result["repeats"], result["throughput_batch"], result["throughput_stopped_by"]) == (5, 50, 256, "budget")
    fast = _clocked(monkeypatch, lambda call, batch: 0.0)
    assert measure_latency(fast.forward, torch.zeros(1, 1))["throughput_batch"] == 256


def test_the_smallest_valid_settings_and_their_errors():
    forward = lambda x: x  # noqa: E731
    assert measure_latency(forward, torch.zeros(1, 3), repeats=1, warmup=0, max_batch=1, device=torch.device("cpu"))["throughput_batch"] == 1
    message = "^repeats and max_batch must be at least 1 and warmup at least 0$"
    for settings in ({"repeats": 0}, {"warmup": -1}, {"max_batch": 0}):
        with pytest.raises(ValueError, match=message):
            measure_latency(forward, torch.zeros(1, 3), **settings)


def test_out_of_memory_at_the_first_batch_is_an_error_and_at_the_second_keeps_one():
    calls: list[int] = []

    def first_fails(x: torch.Tensor) -> torch.Tensor:
        calls.append(len(x))
        if len(calls) == 3:  # after one warm-up and one timed call: the doubling's batch of 1
            raise torch.OutOfMemoryError("CUDA out of memory")
        return x

    with pytest.raises(torch.OutOfMemoryError):  # nothing ran at any batch: no throughput to report
        measure_latency(first_fails, torch.ones(1, 2), repeats=1, warmup=1, max_batch=4)

    def second_fails(x: torch.Tensor) -> torch.Tensor:
        if len(x) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return x

    result = measure_latency(second_fails, torch.ones(1, 2), repeats=1, warmup=1, max_batch=4)
    assert (result["throughput_batch"], result["throughput_stopped_by"]) == (1, "out_of_memory")
