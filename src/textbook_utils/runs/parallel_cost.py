"""When does parallel hardware pay? Measurements and a cost model of data parallelism.

Chapter "Scaling up" (``book/scaling/01_scaling_up.ipynb``). Two kinds of
parallelism on a CPU, and one formula for many GPUs:

- **threads**: one process splits each matrix product over ``threads`` cores
  (:func:`matmul_seconds`); it pays once a product is large enough that the
  cost of waking and joining the threads is small beside the arithmetic;
- **processes**: data parallelism. :func:`measure` starts ``W`` processes
  that meet over ``torch.distributed`` (gloo), and times, on a multilayer
  perceptron of given widths, (a) a training step on a slice of the global
  batch with no communication, (b) an all-reduce of the gradient's bytes,
  and (c) a real ``DistributedDataParallel`` step, which does both;
- **the model** (:func:`ring_allreduce_seconds`, :func:`step_seconds`): a step
  on ``W`` workers costs its compute on ``B / W`` examples plus a ring
  all-reduce, in which every worker sends and receives ``2 (W - 1) / W`` of
  the gradient's bytes in ``2 (W - 1)`` messages (Patarasuk & Yuan 2009):

      t_step(W) = t_fixed + t_example * B / W + 2 (W - 1) latency
                  + 2 (W - 1) / W * bytes / bandwidth

The inputs are random numbers: only the time of the arithmetic is measured,
not what the network learns. Record a full set of measurements with::

    python -m textbook_utils.runs.parallel_cost --out book/scaling/parallel_cost.json --overwrite

on a machine that nothing else is using (about two minutes: three repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.functional import cross_entropy

from textbook_utils.tools import cli
from textbook_utils.tools.device import cpu_name
from textbook_utils.tools.checks import positive_int
from textbook_utils.training.loop import train_step

__all__ = ["WORKLOADS", "fit_allreduce", "matmul_seconds", "measure", "measure_all", "median_of", "mlp",
           "ring_allreduce_seconds", "step_seconds", "main"]

#: name: (layer widths, global batch). The first is chapter 2's network.
WORKLOADS = {"small": ([784, 16, 16, 10], 256), "wide": ([784, 1024, 1024, 10], 1024)}


def mlp(widths: list[int]) -> nn.Sequential:
    """A ReLU multilayer perceptron with the given layer widths."""
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def matmul_seconds(n: int, threads: int, *, repeats: int = 5, min_seconds: float = 2e-3) -> float:
    """Seconds per float32 product of two (n, n) matrices on ``threads`` threads.

    Each of ``repeats`` timings runs enough products back to back to last
    ``min_seconds`` (a single 16 x 16 product takes microseconds, too short
    for the clock to time alone); the best timing, per product, is returned.
    """
    n, threads = positive_int(n, "n"), positive_int(threads, "threads")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        A, B = torch.randn(n, n), torch.randn(n, n)
        t0 = time.perf_counter()
        A @ B  # warm-up: the thread pool starts here
        number = max(1, int(min_seconds / max(time.perf_counter() - t0, 1e-7)))
        times = []
        for _ in range(positive_int(repeats, "repeats")):
            t0 = time.perf_counter()
            for _ in range(number):
                A @ B
            times.append((time.perf_counter() - t0) / number)
    finally:
        torch.set_num_threads(before)
    return min(times)


def ring_allreduce_seconds(n_bytes: float, world_size: int, *, latency: float, bandwidth: float) -> float:
    """Time of a ring all-reduce of ``n_bytes`` over ``world_size`` workers.

    Reduce-scatter then all-gather: ``2 (W - 1)`` steps, each sending one
    ``1 / W`` chunk to the next worker. ``latency`` in seconds per message,
    ``bandwidth`` in bytes per second per worker.
    """
    W = world_size
    return 2 * (W - 1) * latency + 2 * (W - 1) / W * n_bytes / bandwidth


def fit_allreduce(n_bytes, seconds, world_size: int) -> tuple[float, float]:
    """``(latency, bandwidth)`` of :func:`ring_allreduce_seconds` that best fit measured times.

    Least squares on the *relative* error, so that the small messages (which
    measure the latency) count as much as the large ones (the bandwidth).
    """
    n, t = np.asarray(n_bytes, dtype=float), np.asarray(seconds, dtype=float)
    W = world_size
    A = np.stack([2 * (W - 1) * np.ones_like(n), 2 * (W - 1) / W * n], axis=1) / t[:, None]
    (latency, inverse_bandwidth), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
    return float(latency), float(1 / inverse_bandwidth)


def step_seconds(batch: int, world_size: int, *, t_fixed: float, t_example: float, n_bytes: float,
                 latency: float, bandwidth: float) -> float:
    """Predicted time of one data-parallel step: compute on ``batch / W`` examples, then the all-reduce."""
    compute = t_fixed + t_example * batch / world_size
    return compute + ring_allreduce_seconds(n_bytes, world_size, latency=latency, bandwidth=bandwidth)


# --------------------------------------------------------------------------- measuring

def _median_seconds(fn, steps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _time_workload(widths, batch, world_size, steps) -> dict:
    """On this rank: seconds per step without communication, of an all-reduce, of a DDP step."""
    torch.manual_seed(0)
    model = mlp(widths)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    b = batch // world_size
    X, y = torch.randn(b, widths[0]), torch.randint(widths[-1], (b,))
    n_params = sum(p.numel() for p in model.parameters())
    out = {"widths": widths, "batch": batch, "params": n_params, "grad_bytes": 4 * n_params,
           "compute": _median_seconds(lambda: train_step(model, opt, cross_entropy, X, y), steps)}
    if world_size == 1:  # half the batch too: the fixed and the per-example cost of a step
        half = b // 2
        out["compute_half"] = _median_seconds(
            lambda: train_step(model, opt, cross_entropy, X[:half], y[:half]), steps)
    else:
        flat = torch.zeros(n_params)
        out["allreduce"] = _median_seconds(lambda: dist.all_reduce(flat), steps)
        ddp = nn.parallel.DistributedDataParallel(model)
        out["ddp"] = _median_seconds(lambda: train_step(ddp, opt, cross_entropy, X, y), steps)
    return out


def _worker(rank, world_size, rendezvous, workloads, steps, message_sizes, out_path):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world_size)
    try:
        results = {name: _time_workload(w, b, world_size, steps) for name, (w, b) in workloads.items()}
        allreduce = {}
        for n_bytes in message_sizes:
            flat = torch.zeros(n_bytes // 4)
            allreduce[n_bytes] = _median_seconds(lambda: dist.all_reduce(flat), steps)
        if rank == 0:
            Path(out_path).write_text(json.dumps({"workloads": results, "allreduce": allreduce}))
    finally:
        dist.destroy_process_group()


def measure(world_size: int = 2, *, threads: int = 1, workloads=None, steps: int = 20,
            message_sizes=(4_096, 65_536, 1_048_576, 8_388_608)) -> dict:
    """Time ``workloads`` (default :data:`WORKLOADS`) on ``world_size`` processes of one thread each.

    Returns rank 0's medians in seconds: per workload ``compute`` (a step on
    its ``batch / W`` examples, no communication; with ``W = 1`` also
    ``compute_half``, a step on half the batch), and with ``W > 1``
    ``allreduce`` (the gradient's bytes) and ``ddp`` (a DistributedDataParallel
    step); and ``allreduce`` by message size in bytes. ``world_size=1`` runs
    in this process, on ``threads`` threads (several processes always use one
    thread each).
    """
    world_size, steps = positive_int(world_size, "world_size"), positive_int(steps, "steps")
    threads = positive_int(threads, "threads")
    if world_size > 1 and threads != 1:
        raise ValueError(f"several processes run one thread each; got threads={threads}")
    workloads = dict(WORKLOADS if workloads is None else workloads)
    if world_size == 1:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return {"workloads": {name: _time_workload(w, b, 1, steps) for name, (w, b) in workloads.items()}}
        finally:
            torch.set_num_threads(before)
    with tempfile.TemporaryDirectory() as tmp:  # the ranks meet in a file: no port to find
        out_path = Path(tmp) / "rank0.json"
        mp.spawn(_worker, args=(world_size, str(Path(tmp) / "rendezvous"), workloads, steps,
                                tuple(message_sizes), str(out_path)), nprocs=world_size)
        results = json.loads(out_path.read_text())
    results["allreduce"] = {int(k): v for k, v in results["allreduce"].items()}
    return results


def _busy(seconds: float) -> None:
    """Keep one core busy for ``seconds``: a stand-in for another program on the machine."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def measure_all(steps: int = 20) -> dict:
    """Every measurement of the chapter once: matrix products on 1 and 2 threads, both workloads on one
    thread, two threads and two processes, all-reduces of five sizes, and the small workload again while
    another program keeps one core busy. Medians of ``steps`` timed steps each, in seconds."""
    steps = positive_int(steps, "steps")
    results = {"matmul": {n: {t: matmul_seconds(n, t, repeats=10) for t in (1, 2)}
                          for n in (16, 32, 64, 128, 256, 512, 1024)},
               "one_process": measure(1, steps=steps), "two_threads": measure(1, threads=2, steps=steps),
               "two_processes": measure(2, steps=steps, message_sizes=(4_096, 65_536, 524_288, 4_194_304,
                                                                      33_554_432))}
    # the same, while another program keeps one of the cores busy
    neighbour = mp.get_context("spawn").Process(target=_busy, args=(3600.0,), daemon=True)
    neighbour.start()
    try:
        small = {"small": WORKLOADS["small"]}
        results["busy_neighbour"] = {"one_process": measure(1, workloads=small, steps=steps),
                                     "two_threads": measure(1, threads=2, workloads=small, steps=steps),
                                     "two_processes": measure(2, workloads=small, steps=steps)}
    finally:
        neighbour.terminate()
    return json.loads(json.dumps(results))  # keys as strings, as in the file


def median_of(runs: list):
    """The element-wise median of repeated measurements of one structure (nested dicts whose
    float leaves are times); other leaves (widths, counts) are the same in every run."""
    first = runs[0]
    if isinstance(first, dict):
        return {key: median_of([run[key] for run in runs]) for key in first}
    if isinstance(first, float):
        return statistics.median(runs)
    return first


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m textbook_utils.runs.parallel_cost",
                                     description="Time matrix products on 1 and 2 threads and data-parallel "
                                                 "steps on 1 and 2 processes; write the medians as JSON.")
    cli.add_output(parser)
    parser.add_argument("--steps", type=cli.count, default=20, help="timed steps per measurement")
    parser.add_argument("--repeats", type=cli.count, default=3,
                        help="how many times to take every measurement; the file holds each number's "
                             "median over the repeats, and every repeat under 'repeats'")
    args = cli.parse(parser, argv)  # every value, and --out, checked before any work
    steps, repeats = args.steps, args.repeats
    t0 = time.perf_counter()
    runs = [measure_all(steps) for _ in range(repeats)]
    results = {**median_of(runs), "repeats": runs}
    results["seconds_total"] = round(time.perf_counter() - t0, 1)
    results["machine"] = {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "cores_used": len(os.sched_getaffinity(0)),
                          "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
                          "load_average": os.getloadavg()[0]}
    args.out.save_result(results)
    print(f"{results['seconds_total']:.0f} s; wrote {args.out.path}")
    return results


if __name__ == "__main__":
    main()
