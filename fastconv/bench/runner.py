"""Run benchmark cases against the peers and turn the timings into records.

One record (a plain dict, JSON-ready) per layer x layout x dtype x thread
count: the raw times of every peer, the fastconv throughput against the
machine's roofs, the ratios fastconv/peer and a correctness cross-check.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from .. import _config
from . import onnx_peer, ops, torch_peer
from .cases import select
from .progress import Progress
from .timing import describe_error, measure

__all__ = ["RunOptions", "run", "run_case", "fastconv_threads"]

PEER_NAMES = ("torch", "onnxruntime", "reference")
REFERENCE_MAX_FLOPS = 4e8      # larger convs are left to the fast peers
REFERENCE_MAX_CALLS = 3
REFERENCE_MAX_SECONDS = 2.0
CHECK_TOL = {"float32": 2e-3, "float64": 1e-9}


@dataclass
class RunOptions:
    """Everything ``run`` needs; the CLI fills it from its arguments."""

    tables: list
    layouts: list = field(default_factory=lambda: ["NCHW", "NHWC"])
    dtypes: list = field(default_factory=lambda: ["float32"])
    threads: list = field(default_factory=lambda: [_config.get_num_threads()])
    peers: list = field(default_factory=lambda: list(PEER_NAMES))
    quick: bool = False
    repeats: int | None = None
    max_memory_gb: float = 4.0
    target_s: float | None = None

    @property
    def budget(self):
        """Seconds of timed rounds per layer."""
        if self.target_s is not None:
            return self.target_s
        return 0.3 if self.quick else 1.0


@contextlib.contextmanager
def fastconv_threads(n):
    """Run the block with ``fastconv.set_num_threads(n)``, restoring the setting after."""
    previous = _config._threads
    _config.set_num_threads(n)
    try:
        yield
    finally:
        _config._threads = previous


def _with_threads(fn, n):
    def call():
        with fastconv_threads(n):
            return fn()
    return call


def _available_peers(wanted):
    peers = []
    for name in wanted:
        if name == "torch" and not torch_peer.available():
            continue
        if name == "onnxruntime" and not onnx_peer.available():
            continue
        peers.append(name)
    return peers


def _reference_wanted(case, quick):
    return quick or case.quick or case.flops <= REFERENCE_MAX_FLOPS


def _build(name, case, layout, arrays, threads):
    """(callable, to_numpy) for one peer; the callable may raise when called."""
    import fastconv
    if name == "fastconv":
        return (ops.numpy_api_call(fastconv, case, layout, arrays),
                lambda r: ops.output_array(case, r))
    if name == "reference":
        from .. import reference
        return (ops.numpy_api_call(reference, case, layout, arrays),
                lambda r: ops.output_array(case, r))
    if name == "torch":
        return (torch_peer.call(case, layout, arrays),
                lambda r: torch_peer.output_array(case, layout, r))
    if name == "onnxruntime":
        return (onnx_peer.call(case, layout, arrays, threads),
                lambda r: onnx_peer.output_array(case, layout, r))
    raise ValueError(f"unknown peer {name!r}")


def _check(timings, converters, dtype):
    """Largest difference of fastconv's output from a peer's, relative to its max."""
    fc = timings.get("fastconv")
    if fc is None or fc.result is None or fc.error:
        return None
    for peer in ("torch", "reference", "onnxruntime"):
        t = timings.get(peer)
        if t is None or t.result is None or (t.error and not t.error.startswith("skipped")):
            continue
        try:
            a = converters["fastconv"](fc.result).astype(np.float64)
            b = converters[peer](t.result).astype(np.float64)
            if a.shape != b.shape:
                return {"against": peer, "rel_err": None, "ok": False,
                        "note": f"shape {a.shape} != {b.shape}"}
            scale = max(float(np.max(np.abs(b))), 1e-30) if b.size else 1.0
            err = float(np.max(np.abs(a - b))) / scale if b.size else 0.0
        except Exception as exc:
            return {"against": peer, "rel_err": None, "ok": False, "note": describe_error(exc)}
        return {"against": peer, "rel_err": err, "ok": bool(err <= CHECK_TOL[dtype])}
    return None


def _metrics(record, roofs):
    """Throughput and ratios of one record, in place."""
    fc = record["peers"].get("fastconv", {})
    ms = fc.get("median_ms")
    roof = roofs[record["threads"]]
    peak = roof["peak_gflops"] / (2 if record["dtype"] == "float64" else 1)
    record.update(gflops=None, pct_peak=None, gbs=None, pct_bandwidth=None, ratios={})
    if ms is None:
        return record
    if record["family"] == "conv":
        record["gflops"] = record["flops"] / (ms * 1e6)
        record["pct_peak"] = 100.0 * record["gflops"] / peak if peak else None
    else:
        record["gbs"] = record["bytes"] / (ms * 1e6)
        bw = roof["bandwidth_gbs"]
        record["pct_bandwidth"] = 100.0 * record["gbs"] / bw if bw else None
    for name, peer in record["peers"].items():
        if not name.startswith("fastconv") and peer.get("median_ms"):
            record["ratios"][name] = ms / peer["median_ms"]
    return record


def _fastconv_algorithm(case, layout):
    """The C path fastconv.conv2d's auto plan tries first for a forward conv
    layer ("igemm", "winograd", ...); None for other ops."""
    if case.op != "conv2d":
        return None
    from .. import conv
    return conv._plan(case.geometry(layout), conv._conv_module(), "auto")[0]


def run_case(table, case, layout, dtype, threads, peers, options, roofs):
    """Measure one layer; return its record."""
    itemsize = np.dtype(dtype).itemsize
    record = dict(table=table, layer=case.name, description=case.describe(), op=case.op,
                  family=case.family, layout=layout, dtype=dtype, threads=threads,
                  flops=case.flops, bytes=case.nbytes(itemsize), peers={}, skipped=None,
                  check=None, speedup=None, algorithm=_fastconv_algorithm(case, layout))
    names = ["fastconv"] + [p for p in peers if p != "reference"
                            or _reference_wanted(case, options.quick)]
    need = case.nbytes(itemsize) * (2 + len(names))
    if need > options.max_memory_gb * 2**30:
        record["skipped"] = f"needs ~{need / 2**30:.1f} GB > {options.max_memory_gb:g} GB"
        return _metrics(record, roofs)
    arrays = ops.make_inputs(case, layout, dtype)
    callables, converters, errors = {}, {}, {}
    for name in names:
        try:
            callables[name], converters[name] = _build(name, case, layout, arrays, threads)
        except Exception as exc:
            errors[name] = describe_error(exc)
    base = min(options.threads)
    if threads != base and "fastconv" in callables:
        # the thread speedup is measured interleaved too, not across the run
        callables[f"fastconv@T{base}"] = _with_threads(callables["fastconv"], base)
        names.append(f"fastconv@T{base}")
    caps = {"reference": REFERENCE_MAX_CALLS}
    timings = measure(callables, repeats=options.repeats, target_s=options.budget, caps=caps,
                      skip_slower_than={"reference": REFERENCE_MAX_SECONDS})
    for name in names:
        t = timings.get(name)
        if t is None:
            record["peers"][name] = {"median_ms": None, "times_ms": [], "repeats": 0,
                                     "error": errors.get(name, "n/a")}
            continue
        ok = t.error is None and t.times
        record["peers"][name] = {
            "median_ms": 1e3 * t.median if ok else None,
            "times_ms": [1e3 * s for s in t.times],
            "repeats": len(t.times),
            "error": t.error,
        }
    record["check"] = _check(timings, converters, dtype)
    record = _metrics(record, roofs)
    fewer = record["peers"].get(f"fastconv@T{base}", {}).get("median_ms")
    fc_ms = record["peers"]["fastconv"]["median_ms"]
    record["speedup"] = {"base_threads": base, "value": fewer / fc_ms} \
        if fewer and fc_ms else None
    return record


def run(options, roofs, stream=None):
    """Run every selected table; return the list of records.

    ``roofs`` maps each thread count to its measured ``peak_gflops`` and
    ``bandwidth_gbs`` (see ``machine.measure_roofs``).
    """
    peers = _available_peers(options.peers)
    plan = [(threads, dtype, table, layout, case)
            for threads in options.threads
            for dtype in options.dtypes
            for table in options.tables
            for layout in options.layouts
            for case in select(table, options.quick, dtype)]
    progress = Progress(len(plan), stream)
    records = []
    for threads, dtype, table, layout, case in plan:
        progress.start(f"{table} {layout} {dtype} T{threads} {case.name}")
        with contextlib.ExitStack() as stack:
            stack.enter_context(fastconv_threads(threads))
            if "torch" in peers:
                stack.enter_context(torch_peer.threads(threads))
            record = run_case(table, case, layout, dtype, threads, peers, options, roofs)
        records.append(record)
        progress.done(record)
    progress.close()
    return records
