"""Interleaved timing: A B A B ..., medians, repeats adapted to the op's cost.

On a shared, noisy machine absolute times drift from run to run; the ratio of
medians taken side by side, in one process, on the same input arrays, holds.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

__all__ = ["Timing", "choose_repeats", "measure", "describe_error"]


@dataclass
class Timing:
    """What was measured for one callable.

    Attributes
    ----------
    times : list of float
        Seconds of each timed call (warm-up excluded).
    error : str or None
        ``"n/a"`` for NotImplementedError, ``"Type: message"`` for another
        failure, ``"skipped: ..."`` when the callable was left out.
    result : object
        What the first (warm-up) call returned, for a correctness cross-check.
    """

    times: list = field(default_factory=list)
    error: str | None = None
    result: object = None

    @property
    def median(self):
        """Median seconds, or None when nothing was timed."""
        return statistics.median(self.times) if self.times else None

    @property
    def ok(self):
        """Whether the callable ran without error and was timed."""
        return self.error is None and bool(self.times)


def describe_error(exc, limit=80):
    """One short line for a failure: ``"n/a"`` when the op is not implemented.

    >>> describe_error(NotImplementedError("later"))
    'n/a'
    >>> describe_error(ValueError("bad"))
    'ValueError: bad'
    """
    if isinstance(exc, NotImplementedError):
        return "n/a"
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def choose_repeats(cost_s, target_s=1.0, max_repeats=200):
    """Timed rounds for one interleaved measurement whose round costs ``cost_s``.

    As many rounds as fit in ``target_s``, at least 10 for ops faster than
    50 ms a round, at least 5 below 0.5 s, else at least 3.

    >>> choose_repeats(0.001), choose_repeats(0.2), choose_repeats(2.0)
    (200, 5, 3)
    """
    floor = 10 if cost_s < 0.05 else 5 if cost_s < 0.5 else 3
    fit = int(target_s / max(cost_s, 1e-9))
    return max(floor, min(max_repeats, fit))


def _call(fn, timing):
    start = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # any failure of one peer must not stop the suite
        timing.error = describe_error(exc)
        return None, None
    return out, time.perf_counter() - start


def measure(callables, *, repeats=None, target_s=1.0, max_repeats=200, caps=None,
            skip_slower_than=None, warmup_s=0.05):
    """Time zero-argument callables interleaved; return ``{name: Timing}``.

    Parameters
    ----------
    callables : dict of str -> callable
        Each is called with no argument; insertion order is the call order
        within a round.
    repeats : int, optional
        Timed rounds (default: ``choose_repeats`` of the measured cost).
    target_s : float
        Time budget of the timed rounds when ``repeats`` is not given.
    caps : dict of str -> int, optional
        Most timed calls for a given callable (a slow peer joins only the
        first rounds).
    skip_slower_than : dict of str -> float, optional
        A callable whose warm-up call takes longer than this many seconds
        is left out (marked ``"skipped: ..."``).
    warmup_s : float
        Each callable is warmed up by at least one call, and by more (up to
        three) while they take less than this in total.

    Examples
    --------
    >>> t = measure({"a": lambda: 1, "b": lambda: 2}, repeats=3)
    >>> len(t["a"].times), t["b"].result
    (3, 2)
    """
    caps = caps or {}
    limits = skip_slower_than or {}
    timings = {name: Timing() for name in callables}
    live = {}
    for name, fn in callables.items():
        timing = timings[name]
        out, elapsed = _call(fn, timing)
        if timing.error:
            continue
        timing.result = out
        if elapsed > limits.get(name, float("inf")):
            timing.error = f"skipped: one call took {elapsed:.1f} s"
            continue
        spent, calls = elapsed, 1
        while spent < warmup_s and calls < 3:
            _, extra = _call(fn, timing)
            if timing.error:
                break
            spent, calls = spent + extra, calls + 1
        if not timing.error:
            live[name] = (fn, spent / calls)
    if not live:
        return timings
    if repeats is None:
        # capped peers take part in few rounds: count them once per round at most cap times
        cost = sum(c for n, (_, c) in live.items() if n not in caps)
        repeats = choose_repeats(cost or min(c for _, c in live.values()), target_s,
                                 max_repeats)
    for round_ in range(repeats):
        for name, (fn, _) in live.items():
            timing = timings[name]
            if timing.error or round_ >= caps.get(name, repeats):
                continue
            _, elapsed = _call(fn, timing)
            if elapsed is not None:
                timing.times.append(elapsed)
    return timings
