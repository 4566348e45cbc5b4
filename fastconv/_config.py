"""Runtime configuration: thread count, instruction-set level, show_config()."""
from __future__ import annotations

import contextlib
import os
import platform
import threading

from . import _cpu

ISA_NAMES = ("scalar", "avx2", "avx512")
_lock = threading.Lock()
_threads = None          # set by set_num_threads / FASTCONV_NUM_THREADS; None = OpenMP default
_isa = None              # active ISA level, resolved lazily
_omp_used = False        # a call in this process asked OpenMP for more than one thread
_forked = False          # forked after that: the child runs every call on one thread


def _after_fork_in_child():
    # GNU libgomp keeps its worker pool across fork() but the workers do not
    # exist in the child, so the child's first parallel region with > 1 thread
    # waits for them forever.  A one-thread region never touches the pool (as
    # PyTorch does for its OpenMP pool).  "spawn"/"forkserver" children are
    # fresh processes and keep every thread.
    global _forked
    if _omp_used:
        _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _env_threads():
    value = os.environ.get("FASTCONV_NUM_THREADS")
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"FASTCONV_NUM_THREADS must be a positive integer, got {value!r}") \
            from None
    if n < 1:
        raise ValueError(f"FASTCONV_NUM_THREADS must be a positive integer, got {value!r}")
    return n


def _default_threads():
    if not _cpu.have_openmp():
        return 1
    # omp_get_max_threads honours OMP_NUM_THREADS, the affinity mask, and
    # threadpoolctl's limits, so the default follows all of them.
    return max(1, _cpu.omp_max_threads())


def set_num_threads(n):
    """Set the number of threads fastconv's kernels use (None: back to the default).

    Parameters
    ----------
    n : int or None
        Threads for every later call, from any Python thread.

    Examples
    --------
    >>> import fastconv
    >>> fastconv.set_num_threads(1)
    >>> fastconv.get_num_threads()
    1
    >>> fastconv.set_num_threads(None)
    """
    global _threads
    if n is None:
        _threads = None
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    _threads = n


def get_num_threads():
    """Number of threads the next kernel call will use.

    ``set_num_threads`` wins, then ``FASTCONV_NUM_THREADS``, then OpenMP's
    default (``OMP_NUM_THREADS``, else all cores available to the process).
    A process forked (``os.fork``, multiprocessing's "fork" context) after
    fastconv ran multi-threaded gets 1: OpenMP's thread pool does not survive
    fork.

    Examples
    --------
    >>> import fastconv
    >>> fastconv.get_num_threads() >= 1
    True
    """
    global _omp_used
    if _forked:
        return 1
    if _threads is not None:
        n = _threads
    else:
        env = _env_threads()
        n = env if env is not None else _default_threads()
    if n > 1 and not _omp_used:
        _omp_used = True
    return n


def supported_isas():
    """ISA variants this CPU can run, from ``"scalar"`` up."""
    return list(ISA_NAMES[: _cpu.isa_level() + 1])


def _resolve_isa():
    forced = os.environ.get("FASTCONV_ISA")
    level = _cpu.isa_level()
    if forced:
        name = forced.strip().lower()
        if name not in ISA_NAMES:
            raise ValueError(f"FASTCONV_ISA must be one of {ISA_NAMES}, got {forced!r}")
        if ISA_NAMES.index(name) > level:
            raise ValueError(f"FASTCONV_ISA={forced!r}, but this CPU supports only "
                             f"{supported_isas()}")
        level = ISA_NAMES.index(name)
    return level


def isa_level():
    """Active ISA level as an int (0 scalar, 1 avx2, 2 avx512), passed to every kernel."""
    global _isa
    if _isa is None:
        with _lock:
            if _isa is None:
                _isa = _resolve_isa()
    return _isa


def get_isa():
    """Name of the active kernel variant: ``"scalar"``, ``"avx2"`` or ``"avx512"``."""
    return ISA_NAMES[isa_level()]


def set_isa(name):
    """Force a kernel variant for later calls (``None``: the best this CPU runs).

    Examples
    --------
    >>> import fastconv
    >>> fastconv.set_isa("scalar"); fastconv.get_isa()
    'scalar'
    >>> fastconv.set_isa(None)
    """
    global _isa
    if name is None:
        _isa = _resolve_isa()
        return
    if not isinstance(name, str) or name.lower() not in ISA_NAMES:
        raise ValueError(f"name must be one of {ISA_NAMES} or None, got {name!r}")
    level = ISA_NAMES.index(name.lower())
    if level > _cpu.isa_level():
        raise ValueError(f"this CPU does not support {name!r} (supported: {supported_isas()})")
    _isa = level


@contextlib.contextmanager
def use_isa(name):
    """Context manager: run the block with the kernel variant ``name``."""
    previous = get_isa()
    set_isa(name)
    try:
        yield
    finally:
        set_isa(previous)


def show_config(file=None):
    """Print the version, CPU features, active kernels, compiler and threads.

    Examples
    --------
    >>> import fastconv
    >>> fastconv.show_config()  # doctest: +SKIP
    """
    from . import __version__
    lines = [
        f"fastconv {__version__}",
        f"  python      : {platform.python_version()} ({platform.machine()})",
        f"  cpu features: {' '.join(_cpu.cpu_features()) or '(none detected)'}",
        f"  isa         : {get_isa()} (supported: {', '.join(supported_isas())}; "
        f"FASTCONV_ISA={os.environ.get('FASTCONV_ISA', '')!s})",
        f"  compiler    : {_cpu.compiler()}",
        f"  openmp      : {'yes' if _cpu.have_openmp() else 'no (serial build)'}",
        f"  threads     : {get_num_threads()}",
    ]
    active = {}
    level = isa_level()
    for k in _cpu.kernels():
        if ISA_NAMES.index(k["isa"]) <= level:
            key = (k["op"], k["dtype"])
            if key not in active or ISA_NAMES.index(k["isa"]) > ISA_NAMES.index(active[key]["isa"]):
                active[key] = k
    lines.append("  kernels     : " + ", ".join(k["name"] for k in active.values()))
    print("\n".join(lines), file=file)
