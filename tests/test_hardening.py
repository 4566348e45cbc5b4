"""Hardening: nothing crashes, nothing hangs, nothing leaks, nothing is lost.

- fork: a child forked after fastconv ran multi-threaded computes (on one
  thread: libgomp's pool does not survive fork) instead of hanging;
- many Python threads calling the kernels at once get the serial results,
  while another thread changes the thread count;
- resident memory stays flat over thousands of calls (workspaces are freed);
- absurd sizes raise ValueError/MemoryError before anything is allocated;
- every op is deterministic: the same call twice, and with 1, 2 or 3 threads,
  gives bitwise identical results, except conv2d_backward's weight and bias
  gradients (reductions over batch and pixels split between threads: equal
  for a given thread count, within rounding across thread counts);
- (slow, ``-m slow``) tensors of more than 2**31 elements (int64 indexing).

Every child process and thread is timeout-guarded: a hang fails the test.
"""
import ast
import os
import textwrap
import threading

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


def _ops(dtype=np.float32, layout="NCHW", seed=0, n=2):
    """name -> zero-argument call; small shapes that still split across threads."""
    rng = np.random.default_rng(seed)
    nchw = layout == "NCHW"

    def act(n, c, h, w):
        a = rng.standard_normal((n, c, h, w)).astype(dtype)
        return a if nchw else np.ascontiguousarray(a.transpose(0, 2, 3, 1))

    x = act(n, 8, 11, 9)
    w = rng.standard_normal((12, 8, 3, 3)).astype(dtype)
    b = rng.standard_normal(12).astype(dtype)
    gy = act(n, 12, 11, 9)
    x3 = act(n, 3, 13, 10)
    w3 = rng.standard_normal((16, 3, 3, 3)).astype(dtype)
    wd = rng.standard_normal((8, 1, 3, 3)).astype(dtype)
    wt = rng.standard_normal((8, 4, 3, 3)).astype(dtype)
    y, idx = reference.max_pool2d(x, 3, 2, 1, return_indices=True, layout=layout)
    gp = rng.standard_normal(y.shape).astype(dtype)
    kw = dict(layout=layout)
    return {
        "conv2d": lambda: fastconv.conv2d(x, w, b, 1, 1, **kw),
        "conv2d_strided_relu": lambda: fastconv.conv2d(x, w, b, 2, 1, activation="relu", **kw),
        "conv2d_smallc": lambda: fastconv.conv2d(x3, w3, None, 1, 1, **kw),
        "conv2d_depthwise": lambda: fastconv.conv2d(x, wd, None, 1, 1, 1, 8, **kw),
        "conv2d_backward": lambda: fastconv.conv2d_backward(gy, x, w, 1, 1, **kw),
        "conv_transpose2d": lambda: fastconv.conv_transpose2d(x, wt, None, 2, 1, 1, **kw),
        "max_pool2d": lambda: fastconv.max_pool2d(x, 3, 2, 1, return_indices=True, **kw),
        "avg_pool2d": lambda: fastconv.avg_pool2d(x, 3, 2, 1, **kw),
        "global_max_pool2d": lambda: fastconv.global_max_pool2d(x, **kw),
        "max_pool2d_backward": lambda: fastconv.max_pool2d_backward(
            gp, x, 3, 2, 1, indices=idx, **kw),
        "avg_pool2d_backward": lambda: fastconv.avg_pool2d_backward(gp, x.shape, 3, 2, 1, **kw),
    }


def _as_tuple(out):
    return tuple(o for o in out if o is not None) if isinstance(out, tuple) else (out,)


def _assert_same(a, b):
    for u, v in zip(_as_tuple(a), _as_tuple(b), strict=True):
        np.testing.assert_array_equal(u, v)


# ----------------------------------------------------------------------------
# fork

_FORK_CHILD = """
import multiprocessing as mp, sys
import numpy as np
import fastconv
fastconv.set_num_threads({parent})
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 16, 20, 20)).astype(np.float32)
w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
gy = rng.standard_normal((2, 16, 20, 20)).astype(np.float32)
calls = [lambda: fastconv.conv2d(x, w, padding=1),
         lambda: fastconv.max_pool2d(x, 3, 2, 1),
         lambda: fastconv.conv2d_backward(gy, x, w, padding=1, weight_grad=False)[0]]
expected = [c() for c in calls]          # the parent has run its OpenMP regions

def child(q):
    if {child} is not None:
        fastconv.set_num_threads({child})
    q.put([np.array_equal(c(), e) for c, e in zip(calls, expected)] +
          [fastconv.get_num_threads()])

ctx = mp.get_context("fork")
q = ctx.Queue()
p = ctx.Process(target=child, args=(q,))
p.start()
p.join(60)
if p.is_alive():
    p.kill()
    print("HUNG")
    sys.exit(3)
print("RESULT", q.get(timeout=10), p.exitcode)
# the parent keeps its threads after forking
print("PARENT", fastconv.get_num_threads(), np.array_equal(calls[0](), expected[0]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.parametrize("parent,child", [(2, None), (2, 2), (1, 2)])
def test_forked_child_computes_without_hanging(parent, child):
    """libgomp after fork: a child whose parent ran a multi-threaded region used
    to wait forever for the parent's workers; it now runs on one thread."""
    proc = python_subprocess(["-c", _FORK_CHILD.format(parent=parent, child=child)],
                             capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    ok = ast.literal_eval(lines["RESULT"].rsplit(" ", 1)[0])
    assert ok[:3] == [True, True, True]
    assert lines["RESULT"].endswith(" 0")
    if parent > 1:
        assert ok[3] == 1                  # forced single-threaded in the child
    else:
        assert ok[3] == child              # the parent never went parallel: no limit
    assert lines["PARENT"] == f"{parent} True"


# ----------------------------------------------------------------------------
# Python threads

def _run_threads(target, n, timeout=120):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_eight_python_threads_get_serial_results(layout, restore_threads):
    fastconv.set_num_threads(2)
    ops = _ops(np.float32, layout)
    names = sorted(ops)
    serial = {name: ops[name]() for name in names}

    def work(i):
        for r in range(4):
            name = names[(i + r * 3) % len(names)]
            _assert_same(ops[name](), serial[name])

    _run_threads(work, 8)


def test_set_num_threads_from_another_thread_during_calls(restore_threads):
    """The thread count is read once per call: changing it mid-flight is safe."""
    ops = _ops(np.float64, "NCHW", seed=3)
    names = ["conv2d", "conv2d_depthwise", "max_pool2d", "avg_pool2d_backward",
             "conv2d_backward"]
    fastconv.set_num_threads(1)
    serial = {name: ops[name]() for name in names}
    stop = threading.Event()

    def flip():
        k = 0
        while not stop.is_set():
            fastconv.set_num_threads(1 + k % 3)
            k += 1

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        def work(i):
            for r in range(6):
                name = names[(i + r) % len(names)]
                got = _as_tuple(ops[name]())
                want = _as_tuple(serial[name])
                for slot, (a, b) in enumerate(zip(got, want, strict=True)):
                    if name == "conv2d_backward" and slot > 0:
                        assert_close(a, b, "conv2d_backward", reduction=2 * 11 * 9)
                    else:
                        np.testing.assert_array_equal(a, b)
        _run_threads(work, 4)
    finally:
        stop.set()
        flipper.join(10)


# ----------------------------------------------------------------------------
# memory

def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="ASan's quarantine holds freed memory (.ci/sanitize)")
@pytest.mark.parametrize("name", sorted(_ops()))
def test_resident_memory_stays_flat(name, restore_threads):
    """2000 calls: a leaked workspace or output per call (>= a few KiB here)
    would add megabytes; the allocator's own caching stays well below that."""
    fastconv.set_num_threads(1)     # the per-call workspaces are the same with more threads
    call = _ops(np.float32, "NCHW", n=1)[name]
    for _ in range(200):        # warm up: allocator arenas, OpenMP pool, caches
        call()
    before = _rss_bytes()
    for _ in range(2000):
        call()
    grown = _rss_bytes() - before
    assert grown < 4 * 2**20, f"{name}: RSS grew by {grown / 2**20:.1f} MiB over 2000 calls"


# ----------------------------------------------------------------------------
# absurd sizes: an exception before any allocation, never a crash

_X = np.ones((1, 1, 4, 4), np.float32)
_W = np.ones((1, 1, 3, 3), np.float32)
_G = np.ones((1, 1, 2, 2), np.float32)

ABSURD = {
    # outputs of 2**62+ bytes
    "conv_pad_2^30": lambda: fastconv.conv2d(_X, _W, padding=2**30),
    "conv_pad_2^62": lambda: fastconv.conv2d(_X, _W, padding=2**62),
    "conv_pad_2^64": lambda: fastconv.conv2d(_X, _W, padding=2**64),
    "conv_pad_end_2^63": lambda: fastconv.conv2d(_X, _W, padding=((0, 2**63), (0, 0))),
    "conv_transpose_stride_2^40": lambda: fastconv.conv_transpose2d(_X, _W, stride=2**40),
    "conv_transpose_stride_2^64": lambda: fastconv.conv_transpose2d(_X, _W, stride=2**64),
    "avg_pool_pad_2^40": lambda: fastconv.avg_pool2d(_X, 3, 1, padding=2**40),
    "max_pool_kernel_2^63": lambda: fastconv.max_pool2d(_X, 2**63),
    "conv_backward_pad_2^62": lambda: fastconv.conv2d_backward(_G, _X, _W, padding=2**62),
    "avg_pool_backward_shape_2^80": lambda: fastconv.avg_pool2d_backward(
        _G, (1, 1, 2**40, 2**40), 2**39),
    # N*C*H*W past int64, without allocating the input (a broadcast view)
    "max_pool_broadcast_2^62": lambda: fastconv.max_pool2d(
        np.broadcast_to(np.float32(1), (2**20, 2**20, 2**11, 2**11)), 2),
    "conv_broadcast_weight_2^40": lambda: fastconv.conv2d(
        _X, np.broadcast_to(_W, (2**40, 1, 3, 3))),
    "max_pool_backward_index_2^62": lambda: fastconv.max_pool2d_backward(
        _G, _X, 2, indices=np.full((1, 1, 2, 2), 2**62)),
}


@pytest.mark.parametrize("name", sorted(ABSURD))
def test_absurd_sizes_raise(name):
    with pytest.raises((ValueError, MemoryError)):
        ABSURD[name]()


# Small outputs from huge strides/dilations/padding: the depthwise and
# small-channel NCHW drivers size a phase-split scratch as rows * stride *
# row length, which wrapped around int64 (a small buffer, then a segfault).
# Strides past the padded input are now passed on as the padded size (the
# output is the same), and the scratch size saturates (-> MemoryError).
@pytest.mark.parametrize("algorithm", ["auto", "igemm", "depthwise", "smallc"])
@pytest.mark.parametrize("stride", [2**31, 2**56, 2**62, 2**63 - 1])
def test_huge_stride_gives_one_output(algorithm, stride):
    got = fastconv.conv2d(_X, _W * 2, stride=stride, algorithm=algorithm)
    np.testing.assert_array_equal(got, np.full((1, 1, 1, 1), 18, np.float32))
    got = fastconv.conv2d(_X, _W, stride=(1, stride), padding=1, algorithm=algorithm)
    np.testing.assert_array_equal(got, reference.conv2d(_X, _W, stride=(1, 5), padding=1))


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "max_pool2d_backward",
                                "conv_transpose2d"])
def test_huge_stride_other_ops(op):
    s = 2**62
    if op == "conv_transpose2d":
        x1 = np.ones((1, 1, 1, 1), np.float32)
        got = fastconv.conv_transpose2d(x1, _W, stride=s)
        np.testing.assert_array_equal(got, reference.conv_transpose2d(x1, _W, stride=7))
        return
    f = getattr(fastconv, op) if op != "max_pool2d_backward" else None
    if op == "max_pool2d_backward":
        got = fastconv.max_pool2d_backward(np.ones((1, 1, 1, 1), np.float32), _X, 3, s)
        want = reference.max_pool2d_backward(np.ones((1, 1, 1, 1), np.float32), _X, 3, 9)
    else:
        got, want = f(_X, 3, s, ceil_mode=True), getattr(reference, op)(_X, 3, 9, ceil_mode=True)
    if op == "avg_pool2d":            # sum * (1/9) against sum / 9
        assert_close(got, want, op)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("algorithm", ["auto", "igemm", "depthwise", "smallc"])
@pytest.mark.parametrize("p", [2**50, 2**60, 2**61])
def test_huge_padding_and_dilation_never_crash(algorithm, p):
    """A 2x2 output from padding and dilation near 2**60: igemm computes it;
    the phase-split scratch of the other paths is too big (MemoryError)."""
    try:
        got = fastconv.conv2d(_X, _W, stride=3, padding=p, dilation=p, algorithm=algorithm)
    except (MemoryError, ValueError):
        return
    np.testing.assert_array_equal(got, reference.conv2d(_X, _W, stride=3, padding=4,
                                                        dilation=4))


# ----------------------------------------------------------------------------
# determinism

@pytest.mark.parametrize("name", sorted(_ops()))
def test_deterministic(name, dtype, layout, isa, restore_threads):
    call = _ops(dtype, layout, seed=7)[name]
    results = {}
    for n in (1, 2, 3):
        fastconv.set_num_threads(n)
        first = call()
        _assert_same(call(), first)                     # same call twice: bitwise
        results[n] = _as_tuple(first)
    for n in (2, 3):
        for slot, (a, b) in enumerate(zip(results[n], results[1], strict=True)):
            if name == "conv2d_backward" and slot > 0:   # split reduction: rounding only
                assert_close(a, b, "conv2d_backward", reduction=2 * 11 * 9)
            else:
                np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------
# more than 2**31 elements (slow: 12 GiB of float32 at peak)

def _free_bytes():
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0


@pytest.mark.slow
@pytest.mark.skipif(_free_bytes() < 13 * 2**30, reason="needs ~13 GiB of free memory")
def test_more_than_2_31_elements(request, restore_threads):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("memory-hungry: run with -m slow")
    code = """
    import numpy as np, fastconv
    N, C, H, W = 1, 2, 2**15 + 3, 2**15 + 1          # 2**31 + ... elements
    x = np.empty((N, C, H, W), np.float32)
    x[...] = np.arange(W, dtype=np.float32) % 251
    x[0, 1] *= -1
    x[0, 1, H - 2, W - 2] = 1000.0                   # past element 2**31, in the last window
    y = fastconv.max_pool2d(x, 2, 2)
    assert y.shape == (1, 2, (H - 1) // 2, W // 2)
    assert y[0, 1, -1, -1] == 1000.0, y[0, 1, -1, -1]
    for (c, h, w) in [(0, 0, 0), (1, 100, 7), (1, y.shape[2] - 1, y.shape[3] - 1)]:
        want = x[0, c, 2 * h:2 * h + 2, 2 * w:2 * w + 2].max()
        assert y[0, c, h, w] == want, (c, h, w)
    del y
    w = np.array([[[[0.5]], [[2.0]]]], np.float32)     # 1x1 conv, 2 -> 1 channel
    z = fastconv.conv2d(x, w)
    for (h, ww) in [(0, 0), (H // 2, 12345), (H - 2, W - 2), (H - 1, W - 1)]:
        want = 0.5 * x[0, 0, h, ww] + 2.0 * x[0, 1, h, ww]
        assert z[0, 0, h, ww] == want, (h, ww, z[0, 0, h, ww], want)
    print("OK")
    """
    proc = python_subprocess(["-c", textwrap.dedent(code)], capture_output=True, text=True,
                             timeout=900)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stdout + proc.stderr


# ----------------------------------------------------------------------------
# sanitizer findings (.ci/sanitize): these run clean under ASan + UBSan

@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_unaligned_indices_are_realigned(layout):
    """max_pool2d_backward read user indices through an unaligned int64_t
    pointer (UBSan: misaligned load in the pool driver); they are now copied
    to an aligned buffer first."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    if layout == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    y, idx = fastconv.max_pool2d(x, 3, 2, 1, return_indices=True, layout=layout)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    raw = np.empty(idx.nbytes + 1, np.uint8)[1:].view(np.int64).reshape(idx.shape)
    raw[...] = idx
    assert not raw.flags.aligned
    got = fastconv.max_pool2d_backward(gy, x, 3, 2, 1, indices=raw, layout=layout)
    want = fastconv.max_pool2d_backward(gy, x, 3, 2, 1, indices=idx, layout=layout)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("divisor", [0, -3, 2 ** 63, 2 ** 80])
def test_divisor_override_out_of_range_is_a_value_error(divisor):
    # 2**63 used to escape as an OverflowError from the Cython int64 argument
    x = np.ones((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match="divisor_override"):
        fastconv.avg_pool2d(x, 2, divisor_override=divisor)
    with pytest.raises(ValueError, match="divisor_override"):
        fastconv.avg_pool2d_backward(np.ones((1, 1, 2, 2), np.float32), x.shape, 2,
                                     divisor_override=divisor)
