"""Benchmarks: pooling forward and backward (pooling, lenet and backward tables).

fastconv and PyTorch side by side, in one pytest-benchmark group per layer
and layout (PyTorch tests skip when torch is missing)."""
import fastconv
from fastconv.bench import ops, torch_peer

BENCH_FAMILY = "pool"


def test_fastconv(run_benchmark, bench_case, layout, bench_arrays):
    fn = ops.numpy_api_call(fastconv, bench_case, layout, bench_arrays)
    run_benchmark("fastconv", fn)


def test_torch(run_benchmark, bench_case, layout, bench_arrays, torch_threads):
    fn = torch_peer.call(bench_case, layout, bench_arrays)
    run_benchmark("torch", fn)
