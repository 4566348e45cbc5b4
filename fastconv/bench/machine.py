"""What the benchmarks ran on: date, CPU, configuration, and the machine's roofs.

The roofs are measured at start-up with fastconv's own probes: the fp32 FMA
peak of a register-only loop, and the copy bandwidth, for each thread count
the run uses.
"""
from __future__ import annotations

import datetime
import io
import os
import platform

import numpy as np

from .. import _config, _cpu, show_config
from . import onnx_peer, torch_peer

__all__ = ["cpu_model", "machine_info", "measure_roofs"]


def cpu_model():
    """CPU model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def measure_roofs(thread_counts, quick=False):
    """``{threads: {"peak_gflops": ..., "bandwidth_gbs": ...}}`` measured now.

    The FMA peak is fp32 at the active ISA level; float64 peaks are half.
    Each roof is the best of three probes: on a shared machine one probe can
    land in a busy moment, and a low roof would inflate every "% roof".
    """
    seconds, nbytes, repeats = (0.1, 32 << 20, 3) if quick else (0.3, 64 << 20, 5)
    roofs = {}
    for n in thread_counts:
        roofs[n] = {
            "peak_gflops": max(_cpu.fma_peak_gflops(_config.isa_level(), n, seconds)
                               for _ in range(3)),
            "bandwidth_gbs": max(_cpu.copy_bandwidth_gbs(nbytes, n, repeats) for _ in range(3)),
        }
    return roofs


def machine_info(roofs):
    """Header facts: date, machine, fastconv configuration, peer versions, roofs."""
    buf = io.StringIO()
    show_config(file=buf)
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": _cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "fastconv_config": buf.getvalue().rstrip(),
        "isa": _config.get_isa(),
        "default_threads": _config.get_num_threads(),
        "torch": torch_peer.version(),
        "onnxruntime": onnx_peer.version() if onnx_peer.available() else None,
        "roofs": {str(k): v for k, v in roofs.items()},
    }
