"""Threads, the GIL, living beside PyTorch, environment variables, show_config, ISA names.

No test here asserts a timing: the GIL test checks that a Python thread makes
progress *while* one kernel call runs in another thread, which cannot happen
if the call holds the GIL, however slow or noisy the machine.
"""
import io
import os
import textwrap
import threading
import time

from conftest import python_subprocess
import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerances import assert_close


@pytest.fixture
def restore_threads():
    yield
    fastconv.set_num_threads(None)


def _run(code, drop=(), **env):
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(env)
    return python_subprocess(["-c", textwrap.dedent(code)], env=full, capture_output=True,
                             text=True, timeout=300)


# ----------------------------------------------------------------------------
# every op, 1 thread vs 2 threads

def _op_calls(dtype, layout):
    """name -> zero-argument callable; shapes big enough that 2 threads split the work."""
    rng = np.random.default_rng(0)
    nchw = layout == "NCHW"

    def act(n, c, h, w):
        a = rng.standard_normal((n, c, h, w)).astype(dtype)
        return a if nchw else np.ascontiguousarray(a.transpose(0, 2, 3, 1))

    x = act(3, 16, 13, 11)
    w = rng.standard_normal((24, 8, 3, 3)).astype(dtype)
    b = rng.standard_normal(24).astype(dtype)
    gy = act(3, 24, 7, 6)
    wt = rng.standard_normal((16, 5, 3, 3)).astype(dtype)
    xp = act(3, 17, 15, 14)
    y, idx = reference.max_pool2d(xp, 3, 2, 1, ceil_mode=True, return_indices=True,
                                  layout=layout)
    gp = rng.standard_normal(y.shape).astype(dtype)
    kw = dict(layout=layout)
    return {
        "conv2d": lambda: fastconv.conv2d(x, w, b, 2, 1, 1, 2, activation="relu", **kw),
        "conv2d_depthwise": lambda: fastconv.conv2d(x, w[:16, :1], None, 1, 1, 1, 16, **kw),
        "conv2d_backward": lambda: fastconv.conv2d_backward(gy, x, w, 2, 1, 1, 2, **kw),
        "conv_transpose2d": lambda: fastconv.conv_transpose2d(x, wt, None, 2, 1, 1, 1, **kw),
        "max_pool2d": lambda: fastconv.max_pool2d(xp, 3, 2, 1, 1, True, True, **kw),
        "avg_pool2d": lambda: fastconv.avg_pool2d(xp, 3, 2, 1, True, False, **kw),
        "global_avg_pool2d": lambda: fastconv.global_avg_pool2d(xp, **kw),
        "global_max_pool2d": lambda: fastconv.global_max_pool2d(xp, **kw),
        "max_pool2d_backward": lambda: fastconv.max_pool2d_backward(
            gp, xp, 3, 2, 1, 1, True, indices=idx, **kw),
        "avg_pool2d_backward": lambda: fastconv.avg_pool2d_backward(
            gp, xp.shape, 3, 2, 1, True, False, **kw),
    }


OP_NAMES = sorted(_op_calls(np.float32, "NCHW"))


@pytest.mark.parametrize("op", OP_NAMES)
def test_thread_count_does_not_change_results(op, dtype, layout, isa, restore_threads):
    """Identical results with 1, 2, 3 and 16 threads: work is split over outputs.

    The exception is conv2d_backward's weight and bias gradients, a reduction
    over the batch and pixels that may be split between threads (private
    partial sums added at the end), so only the rounding may differ.
    """
    call = _op_calls(dtype, layout)[op]
    results = []
    for n in (1, 2, 3, 16):  # 16: more threads than items
        fastconv.set_num_threads(n)
        out = call()
        results.append(out if isinstance(out, tuple) else (out,))
    for other in results[1:]:
        for slot, (a, b) in enumerate(zip(results[0], other)):
            if op == "conv2d_backward" and slot > 0:
                assert_close(b, a, "conv2d_backward", reduction=3 * 7 * 6)
            else:
                np.testing.assert_array_equal(b, a)


# ----------------------------------------------------------------------------
# the GIL

def _long_calls():
    """name -> (make(scale) -> zero-argument call): calls whose cost grows with scale."""
    rng = np.random.default_rng(1)

    def conv(scale):
        x = rng.standard_normal((scale, 48, 48, 48)).astype(np.float32)
        w = rng.standard_normal((48, 48, 3, 3)).astype(np.float32)
        return lambda: fastconv.conv2d(x, w, padding=1)

    def conv_bwd(scale):
        x = rng.standard_normal((scale, 32, 40, 40)).astype(np.float32)
        w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
        gy = rng.standard_normal((scale, 32, 40, 40)).astype(np.float32)
        return lambda: fastconv.conv2d_backward(gy, x, w, padding=1)

    def convt(scale):
        x = rng.standard_normal((scale, 32, 24, 24)).astype(np.float32)
        w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
        return lambda: fastconv.conv_transpose2d(x, w, stride=2)

    def maxpool(scale):
        x = rng.standard_normal((scale, 32, 96, 96)).astype(np.float32)
        return lambda: fastconv.max_pool2d(x, 5, 1, 2, return_indices=True)

    def avgpool(scale):
        x = rng.standard_normal((scale, 32, 96, 96)).astype(np.float32)
        return lambda: fastconv.avg_pool2d(x, 5, 1, 2)

    return {"conv2d": conv, "conv2d_backward": conv_bwd, "conv_transpose2d": convt,
            "max_pool2d": maxpool, "avg_pool2d": avgpool}


def _progress_during_call(call):
    """Stamps a spinning Python thread took while ``call`` ran in another thread,
    counted in the middle half of the call (so the Python prologue and epilogue,
    which hold the GIL legitimately, do not count)."""
    span = {}

    def work():
        t0 = time.perf_counter()
        call()
        span["t"] = (t0, time.perf_counter())

    stamps = []
    th = threading.Thread(target=work)
    last = time.perf_counter()
    th.start()
    while th.is_alive():
        now = time.perf_counter()
        if now - last > 2e-4:
            stamps.append(now)
            last = now
    th.join()
    t0, t1 = span["t"]
    lo, hi = t0 + 0.25 * (t1 - t0), t1 - 0.25 * (t1 - t0)
    return sum(lo < s < hi for s in stamps), t1 - t0


@pytest.mark.parametrize("op", sorted(_long_calls()))
def test_gil_is_released_during_kernels(op, restore_threads):
    make = _long_calls()[op]
    fastconv.set_num_threads(1)
    with fastconv.use_isa("scalar"):          # the slowest variant gives the longest call
        scale = 1
        call = make(scale)
        t = time.perf_counter()
        call()
        while time.perf_counter() - t < 0.05 and scale < 8:   # aim at >= 50 ms a call
            scale *= 2
            call = make(scale)
            t = time.perf_counter()
            call()
        # a call holding the GIL gives 0 stamps on every try; retry only against noise
        tries = [_progress_during_call(call) for _ in range(3)]
        assert max(n for n, _ in tries) >= 3, (
            f"a Python thread made no progress while {op} ran (stamps, seconds): {tries}")


def test_two_python_threads_compute_correctly_at_once(restore_threads):
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((2, 8, 20, 20)).astype(np.float32) for _ in range(4)]
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    want = [reference.conv2d(x, w, padding=1) for x in xs]
    got = [None] * len(xs)

    def work(i):
        for _ in range(5):
            got[i] = fastconv.conv2d(xs[i], w, padding=1)

    fastconv.set_num_threads(2)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, e in zip(got, want):
        assert_close(g, e, "conv2d", reduction=72)


def test_concurrent_calls_with_different_weights_get_their_own_workspace(restore_threads):
    """The packed-weight workspace is cached between calls (one slot per
    extension): concurrent calls with different weights and sizes (general
    3x3 path, pixel-major path, NHWC 1x1 GEMM) must never share a buffer."""
    rng = np.random.default_rng(3)
    jobs = []
    for i, (n, c, k, hw, ks, layout) in enumerate([
            (1, 24, 40, 12, 3, "NCHW"), (2, 16, 64, 9, 3, "NHWC"),
            (1, 72, 80, 4, 3, "NCHW"), (1, 48, 96, 10, 1, "NHWC"),
            (1, 32, 48, 13, 3, "NHWC"), (1, 96, 128, 3, 3, "NCHW")]):
        x = rng.standard_normal((n, c, hw, hw)).astype(np.float32)
        w = rng.standard_normal((k, c, ks, ks)).astype(np.float32)
        want = reference.conv2d(x, w, padding=ks // 2)
        if layout == "NHWC":
            x, want = x.transpose(0, 2, 3, 1).copy(), want.transpose(0, 2, 3, 1)
        jobs.append((x, w, ks // 2, layout, want, c * ks * ks))
    got = [[] for _ in jobs]

    def work(i):
        x, w, pad, layout, _, _ = jobs[i]
        for _ in range(30):
            got[i].append(fastconv.conv2d(x, w, padding=pad, layout=layout))

    fastconv.set_num_threads(2)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (_, _, _, _, want, red), outs in zip(jobs, got):
        assert len(outs) == 30
        for g in outs:
            assert_close(g, want, "conv2d", reduction=red)


# ----------------------------------------------------------------------------
# PyTorch in the same process, in either import order

_TORCH_AND_FASTCONV = """
import numpy as np
{imports}
import torch.nn.functional as F
fastconv.set_num_threads(2)
torch.set_num_threads(2)
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 16, 24, 24)).astype(np.float32)
w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
for _ in range(3):               # interleave the two OpenMP users
    y = fastconv.conv2d(x, w, padding=1)
    yt = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    err = float(np.max(np.abs(y - yt)) / np.max(np.abs(yt)))
    assert err < 1e-5, err
print("ok", fastconv.get_num_threads())
"""


@pytest.mark.parametrize("imports", ["import torch\nimport fastconv",
                                     "import fastconv\nimport torch"], ids=["torch-first",
                                                                            "fastconv-first"])
def test_torch_and_fastconv_in_one_process(imports):
    pytest.importorskip("torch")
    r = _run(_TORCH_AND_FASTCONV.format(imports=imports))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["ok", "2"]


# ----------------------------------------------------------------------------
# environment variables, show_config, ISA names

_ENV_PROBE = """
import io, numpy as np, fastconv
from fastconv import reference
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 5, 9, 9))
w = rng.standard_normal((7, 5, 3, 3))
err = np.max(np.abs(fastconv.conv2d(x, w, padding=1) - reference.conv2d(x, w, padding=1)))
assert err < 1e-10, err
buf = io.StringIO()
fastconv.show_config(file=buf)
print(fastconv.get_num_threads(), fastconv.get_isa())
print(buf.getvalue())
"""


@pytest.mark.parametrize("threads", ["1", "2", "5"])
def test_fastconv_num_threads_env(threads):
    r = _run(_ENV_PROBE, FASTCONV_NUM_THREADS=threads, OMP_NUM_THREADS="3")
    assert r.returncode == 0, r.stderr[-3000:]
    first, config = r.stdout.split("\n", 1)
    assert first.split()[0] == threads                # wins over OMP_NUM_THREADS
    assert f"threads     : {threads}" in config


def test_omp_num_threads_is_the_fallback():
    r = _run(_ENV_PROBE, drop=("FASTCONV_NUM_THREADS",), OMP_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split()[0] == "1"


@pytest.mark.parametrize("name", fastconv.supported_isas())
def test_fastconv_isa_env(name):
    r = _run(_ENV_PROBE, FASTCONV_ISA=name.upper() if name == "avx2" else name)
    assert r.returncode == 0, r.stderr[-3000:]
    first, config = r.stdout.split("\n", 1)
    assert first.split()[1] == name
    assert f"isa         : {name}" in config


def test_bad_env_values_fail_clearly():
    r = _run("import fastconv; fastconv.conv2d", FASTCONV_ISA="avx9000")
    assert r.returncode == 0, "importing must not fail on a bad FASTCONV_ISA"
    r = _run("import fastconv; fastconv.get_isa()", FASTCONV_ISA="avx9000")
    assert r.returncode != 0 and "FASTCONV_ISA" in r.stderr
    r = _run("import fastconv; fastconv.get_num_threads()", FASTCONV_NUM_THREADS="zero")
    assert r.returncode != 0 and "FASTCONV_NUM_THREADS" in r.stderr


def test_threadpoolctl_sees_and_limits_fastconv():
    pytest.importorskip("threadpoolctl")
    r = _run("""
        import numpy as np, fastconv
        from threadpoolctl import threadpool_info, threadpool_limits
        fastconv.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 1, 1)))
        apis = {p["user_api"] for p in threadpool_info()}
        assert "openmp" in apis, threadpool_info()
        with threadpool_limits(limits=1, user_api="openmp"):
            print(fastconv.get_num_threads())
        """, drop=("FASTCONV_NUM_THREADS", "OMP_NUM_THREADS"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["1"]


def test_show_config_prints_every_field():
    buf = io.StringIO()
    fastconv.show_config(file=buf)
    text = buf.getvalue()
    assert text.startswith(f"fastconv {fastconv.__version__}")
    for field in ("python", "cpu features", "isa", "compiler", "openmp", "threads", "kernels"):
        assert f"{field}" in text
    assert f"isa         : {fastconv.get_isa()}" in text
    assert f"threads     : {fastconv.get_num_threads()}" in text
    kernels = text.split("kernels     :", 1)[1].strip()
    assert kernels and "igemm" in kernels
    # printing goes to stdout by default
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fastconv.show_config()
    assert out.getvalue() == text


@pytest.mark.parametrize("bad", ["sse9", "AVX1024", "", "avx-512", 3, 2.0])
def test_set_isa_and_use_isa_reject_unknown_names(bad):
    before = fastconv.get_isa()
    with pytest.raises(ValueError, match="name"):
        fastconv.set_isa(bad)
    with pytest.raises(ValueError, match="name"):
        with fastconv.use_isa(bad):
            pass
    assert fastconv.get_isa() == before


def test_set_isa_rejects_variants_the_cpu_lacks(monkeypatch):
    from fastconv import _config
    before = fastconv.get_isa()
    monkeypatch.setattr(_config._cpu, "isa_level", lambda: 0)
    for name in ("avx2", "avx512"):
        with pytest.raises(ValueError, match="support"):
            fastconv.set_isa(name)
        with pytest.raises(ValueError, match="support"):
            with fastconv.use_isa(name):
                pass
    assert fastconv.get_isa() == before
    assert fastconv.supported_isas() == ["scalar"]
    fastconv.set_isa("scalar")
    assert fastconv.get_isa() == "scalar"
    monkeypatch.undo()
    fastconv.set_isa(before)
    assert fastconv.get_isa() == before


def test_use_isa_restores_on_error():
    before = fastconv.get_isa()
    with pytest.raises(RuntimeError):
        with fastconv.use_isa("scalar"):
            assert fastconv.get_isa() == "scalar"
            raise RuntimeError("boom")
    assert fastconv.get_isa() == before
