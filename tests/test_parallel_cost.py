"""The data-parallel cost model (closed forms) and the measurements that feed it."""

import pytest
import torch

from textbook_utils.runs import parallel_cost as P


def test_ring_allreduce_closed_form():
    n, alpha, beta = 8e6, 1e-5, 1e9
    assert P.ring_allreduce_seconds(n, 1, latency=alpha, bandwidth=beta) == 0
    # two workers: each sends and receives half the bytes, twice, in 2 messages
    assert P.ring_allreduce_seconds(n, 2, latency=alpha, bandwidth=beta) == pytest.approx(2 * alpha + n / beta)
    # many workers: the bandwidth term tends to 2 n / beta, the latency term grows as 2 (W - 1)
    t = P.ring_allreduce_seconds(n, 1000, latency=0.0, bandwidth=beta)
    assert t == pytest.approx(2 * n / beta, rel=1e-3)
    assert P.ring_allreduce_seconds(0, 8, latency=alpha, bandwidth=beta) == pytest.approx(14 * alpha)


def test_fit_recovers_latency_and_bandwidth():
    sizes = [4_096, 65_536, 1_048_576, 8_388_608]
    for W in (2, 8):
        times = [P.ring_allreduce_seconds(n, W, latency=2e-5, bandwidth=3e9) for n in sizes]
        latency, bandwidth = P.fit_allreduce(sizes, times, W)
        assert latency == pytest.approx(2e-5) and bandwidth == pytest.approx(3e9)


def test_step_prediction_is_compute_on_a_slice_plus_the_allreduce():
    kw = dict(t_fixed=1e-3, t_example=1e-5, n_bytes=4e6, latency=1e-4, bandwidth=1e9)
    assert P.step_seconds(256, 1, **kw) == pytest.approx(1e-3 + 256e-5)
    assert P.step_seconds(256, 2, **kw) == pytest.approx(1e-3 + 128e-5 + 2e-4 + 4e-3)


def test_mlp_has_the_parameters_of_its_widths():
    assert sum(p.numel() for p in P.mlp([784, 16, 16, 10]).parameters()) == 13_002  # chapter 2's network
    assert isinstance(P.mlp([3, 4, 2])[-1], torch.nn.Linear)  # no activation after the last layer


def test_matmul_timing_leaves_the_thread_count_alone():
    before = torch.get_num_threads()
    assert P.matmul_seconds(64, 2, repeats=2) > 0
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError):
        P.matmul_seconds(64, 0)


def test_measurements_on_one_and_two_processes():
    small = {"small": ([20, 8, 3], 32)}
    one = P.measure(1, workloads=small, steps=2)["workloads"]["small"]
    assert one["params"] == 20 * 8 + 8 + 8 * 3 + 3 and one["grad_bytes"] == 4 * one["params"]
    assert one["compute"] > 0 and one["compute_half"] > 0
    two = P.measure(2, workloads=small, steps=2, message_sizes=(4_096,))
    assert set(two["workloads"]["small"]) >= {"compute", "allreduce", "ddp"}
    assert list(two["allreduce"]) == [4_096]
    with pytest.raises(ValueError):
        P.measure(2, threads=2)


def test_median_of_repeats_takes_each_time_s_median_and_keeps_the_rest():
    runs = [{"a": {"t": 1.0, "widths": [3, 2]}, "n": 7},
            {"a": {"t": 5.0, "widths": [3, 2]}, "n": 7},
            {"a": {"t": 2.0, "widths": [3, 2]}, "n": 7}]
    assert P.median_of(runs) == {"a": {"t": 2.0, "widths": [3, 2]}, "n": 7}


def test_the_command_refuses_a_bad_repeat_count_before_measuring(tmp_path):
    for bad in (["--repeats", "0"], ["--steps", "-1"], ["--device", "gpu"]):
        with pytest.raises(SystemExit) as exit_:
            P.main(["--out", str(tmp_path / "pc.json"), *bad])
        assert exit_.value.code == 2
    assert not (tmp_path / "pc.json").exists()
