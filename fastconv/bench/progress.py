"""A progress display on stderr, so that a long run shows it is alive."""
from __future__ import annotations

import sys
import time

__all__ = ["Progress", "short_result"]


def short_result(record):
    """One line summing up a record: fastconv's time and its ratio to torch.

    >>> short_result({"skipped": None, "peers": {"fastconv": {"median_ms": 2.0,
    ...     "error": None}}, "ratios": {"torch": 0.5}})
    'fastconv 2.000 ms, x0.50 torch'
    """
    if record.get("skipped"):
        return f"skipped ({record['skipped']})"
    fc = record["peers"].get("fastconv", {})
    if fc.get("median_ms") is None:
        text = f"fastconv {fc.get('error') or 'n/a'}"
    else:
        text = f"fastconv {fc['median_ms']:.3f} ms"
    if "torch" in record.get("ratios", {}):
        text += f", x{record['ratios']['torch']:.2f} torch"
    return text


class Progress:
    """``[ i/n] name ... running`` then the result, one line per layer.

    Parameters
    ----------
    total : int
        Number of layers in the run.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    """

    def __init__(self, total, stream=None):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0
        self.began = time.perf_counter()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def start(self, name):
        """Announce the layer about to be measured."""
        self.count += 1
        width = len(str(self.total))
        self.current = f"[{self.count:>{width}}/{self.total}] {name}"
        self._write(f"{self.current} ... running" if self.tty else f"{self.current} ... ")

    def done(self, record):
        """Finish the layer's line with its result."""
        result = short_result(record)
        if self.tty:
            self._write(f"\r\033[K{self.current} ... {result}\n")
        else:
            self._write(result + "\n")

    def close(self):
        """Final line with the elapsed time."""
        self._write(f"{self.count} layers in {time.perf_counter() - self.began:.1f} s\n")
