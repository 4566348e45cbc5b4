"""Command line of the benchmark suite: ``python -m fastconv.bench [options]``.

Examples
--------
Whole suite, default threads, both layouts, float32::

    python -m fastconv.bench

A quick look at two tables, 1 and 2 threads, raw figures kept::

    python -m fastconv.bench --quick --suite resnet50,pooling --threads 1,2 --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys

from .. import _config
from .cases import SUITE_NAMES
from .runner import PEER_NAMES, RunOptions

__all__ = ["build_parser", "parse_options", "main"]


def _names(text, allowed, what):
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(bad) or repr(text)}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(names))


def _suites(text):
    if text == "all":
        return list(SUITE_NAMES)
    return _names(text, SUITE_NAMES, "suite")


def _threads(text):
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads takes N or N,M,..., got {text!r}") \
            from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"--threads must be positive integers, got {text!r}")
    return sorted(set(counts))


def _layouts(text):
    if text.lower() == "both":
        return ["NCHW", "NHWC"]
    return _names(text.upper(), ("NCHW", "NHWC"), "layout")


def _dtypes(text):
    if text.lower() == "both":
        return ["float32", "float64"]
    return _names(text.lower(), ("float32", "float64"), "dtype")


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser():
    """The argparse parser of the CLI."""
    p = argparse.ArgumentParser(
        prog="python -m fastconv.bench",
        description="Benchmark fastconv against PyTorch, ONNX Runtime and the NumPy "
                    "reference on the layer tables of BENCHMARKS.md. Tables go to stdout "
                    "(markdown), progress to stderr.")
    p.add_argument("--suite", type=_suites, default=list(SUITE_NAMES),
                   help=f"comma-separated tables (default all): {', '.join(SUITE_NAMES)}")
    p.add_argument("--quick", action="store_true",
                   help="one or two layers per table and shorter timing (a few minutes)")
    p.add_argument("--threads", type=_threads, default=None,
                   help="thread count, or a list such as 1,2 to add the speedup column "
                        "(default: fastconv's default)")
    p.add_argument("--layout", type=_layouts, default=["NCHW", "NHWC"],
                   help="NCHW, NHWC or both (default both)")
    p.add_argument("--dtype", type=_dtypes, default=["float32"],
                   help="float32 (default), float64 (its subset of layers) or both")
    p.add_argument("--repeats", type=_positive, default=None,
                   help="timed rounds per layer (default: adapted to the op's cost, "
                        ">= 10 for fast ops)")
    p.add_argument("--peers", type=lambda t: _names(t, PEER_NAMES, "peer"),
                   default=list(PEER_NAMES),
                   help="comma-separated peers among torch, onnxruntime, reference "
                        "(default all that import)")
    p.add_argument("--max-memory-gb", type=float, default=4.0,
                   help="skip a layer needing more memory than this (default 4)")
    p.add_argument("--json", metavar="FILE", help="write every raw figure and the machine "
                                                  "info as JSON")
    p.add_argument("--plot", metavar="FILE.png",
                   help="bar chart of the ratios (needs matplotlib)")
    return p


def parse_options(argv=None):
    """``(RunOptions, argparse.Namespace)`` from command-line arguments."""
    args = build_parser().parse_args(argv)
    options = RunOptions(tables=args.suite, layouts=args.layout, dtypes=args.dtype,
                         threads=args.threads or [_config.get_num_threads()],
                         peers=args.peers, quick=args.quick, repeats=args.repeats,
                         max_memory_gb=args.max_memory_gb)
    return options, args


def main(argv=None):
    """Run the CLI; return the exit status (0 even when some ops are not implemented)."""
    from . import machine, report, runner
    options, args = parse_options(argv)
    if args.plot:
        from .plot import require_matplotlib
        try:
            require_matplotlib()
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print("measuring the machine's FMA peak and copy bandwidth ...", file=sys.stderr)
    roofs = machine.measure_roofs(options.threads, quick=options.quick)
    info = machine.machine_info(roofs)
    records = runner.run(options, roofs)
    sys.stdout.write(report.format_report(records, info, options))
    sys.stdout.flush()
    if args.json:
        payload = {"machine": info, "options": vars(options) | {"budget_s": options.budget},
                   "records": records}
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)
        print(f"raw figures written to {args.json}", file=sys.stderr)
    if args.plot:
        from .plot import plot_ratios
        try:
            plot_ratios(records, args.plot)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
