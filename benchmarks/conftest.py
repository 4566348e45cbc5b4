"""pytest-benchmark setup: the cases of fastconv.bench.cases, parametrised per op family.

A test module sets ``BENCH_FAMILY`` (see ``FAMILIES``) and takes the
``bench_case`` and ``layout`` arguments; this file parametrises them, marks
the ``--quick`` subset ``quick`` (its ids end in ``-quick``, so ``-k quick``
selects it too) and layers over 1 GFLOP or 100 MB ``big``, and runs PyTorch
with as many threads as fastconv.

    pytest benchmarks/ --benchmark-only -m quick
"""
import pytest

import fastconv
from fastconv.bench import ops, torch_peer
from fastconv.bench.cases import TABLES

BIG_FLOPS = 1e9
BIG_BYTES = 100e6


def _conv_forward():
    return [(t, c) for t, cases in TABLES.items() if t != "backward"
            for c in cases if c.family == "conv"]


def _conv_backward():
    return [("backward", c) for c in TABLES["backward"] if c.family == "conv"]


def _pools():
    return [(t, c) for t, cases in TABLES.items() for c in cases if c.family == "pool"]


FAMILIES = {"conv2d": _conv_forward, "conv2d_backward": _conv_backward, "pool": _pools}


def pytest_configure(config):
    config.addinivalue_line("markers", "quick: the small --quick subset of the benchmark tables")
    config.addinivalue_line("markers", "big: benchmark layers over 1 GFLOP or 100 MB")


def _param(table, case):
    marks = []
    ident = f"{table}-{case.name}"
    if case.quick:
        marks.append(pytest.mark.quick)
        ident += "-quick"
    if case.flops >= BIG_FLOPS or case.nbytes(4) >= BIG_BYTES:
        marks.append(pytest.mark.big)
    return pytest.param(case, id=ident, marks=marks)


def pytest_generate_tests(metafunc):
    if "bench_case" in metafunc.fixturenames:
        family = getattr(metafunc.module, "BENCH_FAMILY")
        metafunc.parametrize("bench_case", [_param(t, c) for t, c in FAMILIES[family]()])
    if "layout" in metafunc.fixturenames:
        metafunc.parametrize("layout", ["NCHW", "NHWC"])


@pytest.fixture
def torch_threads():
    """PyTorch limited to fastconv's thread count for the test (restored after)."""
    if not torch_peer.available():
        pytest.skip("torch is not installed")
    with torch_peer.threads(fastconv.get_num_threads()):
        yield


@pytest.fixture
def run_benchmark(benchmark, bench_case, layout):
    """``run(peer, fn)``: benchmark ``fn`` in its layer's group; skip ops not implemented yet."""
    return lambda peer, fn: _run(benchmark, bench_case, layout, peer, fn)


def _run(benchmark, case, layout, peer, fn):
    try:
        fn()
    except NotImplementedError as exc:
        pytest.skip(f"{peer}: {exc}")
    benchmark.group = f"{case.op} {case.name} {layout}"
    benchmark.extra_info.update(peer=peer, flops=case.flops, bytes=case.nbytes(4),
                                shape=case.describe())
    benchmark(fn)


@pytest.fixture
def bench_arrays(bench_case, layout):
    """float32 inputs of the case, made once per test."""
    return ops.make_inputs(bench_case, layout, "float32")
