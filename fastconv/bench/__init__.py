"""fastconv's benchmark suite (BENCHMARKS.md): ``python -m fastconv.bench``.

Modules: ``cases`` (the layer tables, shared with ``benchmarks/`` and the
tests), ``timing`` (interleaved medians), ``ops``/``torch_peer``/
``onnx_peer`` (the calls of each peer), ``runner`` (records), ``report``
(text tables), ``machine`` (header and roofs), ``plot``, ``cli``.

Examples
--------
>>> from fastconv.bench import cases
>>> sorted(cases.TABLES)[:2]
['backward', 'dilated']
"""
from .cases import SUITE_NAMES, TABLES

__all__ = ["TABLES", "SUITE_NAMES", "main"]


def main(argv=None):
    """Run the benchmark CLI (same as ``python -m fastconv.bench``)."""
    from .cli import main as _main
    return _main(argv)
