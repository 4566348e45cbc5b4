"""Text report: aligned markdown tables of the records, per table and layout.

Ratios are fastconv time / peer time: below 1.0 fastconv is faster.
"""
from __future__ import annotations

import math

from .cases import TABLE_TITLES

__all__ = ["align", "geomean", "group_records", "summarise", "format_header",
           "format_group", "format_summary", "format_report"]

PEER_SHORT = {"torch": "torch", "onnxruntime": "ort", "reference": "ref"}


def geomean(values):
    """Geometric mean of positive numbers (None when there are none).

    >>> round(geomean([0.5, 2.0]), 6)
    1.0
    """
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def align(rows, numeric_from=2):
    """Aligned markdown table from a header row and data rows (lists of str).

    Columns from ``numeric_from`` on are right-aligned.

    >>> print(align([["a", "b"], ["x", "1"]], numeric_from=1))
    | a |  b |
    |---|---:|
    | x |  1 |
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    widths = [max(w, 2) for w in widths]

    def line(row):
        cells = [c.ljust(w) if i < numeric_from else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ("-" if i < numeric_from else ":")
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(rows[0]), rule] + [line(r) for r in rows[1:]])


def _ms(value):
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}" if value < 100 else f"{value:.1f}"


def _ratio(value):
    if value is None:
        return "-"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def _peer_cell(peer, notes):
    """Time, or "n/a" / "skipped" / "error [k]" with the message kept in ``notes``."""
    if peer is None:
        return "-"
    if peer.get("median_ms") is not None:
        return _ms(peer["median_ms"])
    error = peer.get("error") or "n/a"
    if error == "n/a" or "NOT_IMPLEMENTED" in error:
        return "n/a"
    notes.append(error)
    return f"{'skipped' if error.startswith('skipped') else 'error'} [{len(notes)}]"


def group_records(records):
    """``{(threads, dtype, table, layout): [records]}`` in run order."""
    groups = {}
    for r in records:
        groups.setdefault((r["threads"], r["dtype"], r["table"], r["layout"]), []).append(r)
    return groups


def summarise(group):
    """Geometric mean of each peer's ratio and the worst layer, for one group."""
    peers = [p for p in PEER_SHORT if any(p in r["peers"] for r in group)]
    summary = {}
    for p in peers:
        pairs = [(r["ratios"][p], r["layer"]) for r in group if p in r.get("ratios", {})]
        if pairs:
            worst = max(pairs)
            summary[p] = {"geomean": geomean([v for v, _ in pairs]), "layers": len(pairs),
                          "worst_layer": worst[1], "worst_ratio": worst[0]}
    return summary


def format_header(info, options):
    """Lines describing the machine and the run."""
    lines = [
        "# fastconv benchmarks",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cpu']}, {info['cores']} cores ({info['platform']})",
        f"- python {info['python']}, numpy {info['numpy']}, torch {info['torch'] or 'absent'}"
        f", onnxruntime {info['onnxruntime'] or 'absent'}",
    ]
    for n, roof in info["roofs"].items():
        lines.append(f"- measured with {n} thread(s): fp32 FMA peak {roof['peak_gflops']:.1f} "
                     f"GFLOP/s, copy bandwidth {roof['bandwidth_gbs']:.1f} GB/s")
    lines.append(f"- run: tables {', '.join(options.tables)}; layouts "
                 f"{', '.join(options.layouts)}; {', '.join(options.dtypes)}; threads "
                 f"{', '.join(map(str, options.threads))}"
                 f"{'; quick subset' if options.quick else ''}")
    lines.append("- ratio = fastconv time / peer time (< 1: fastconv faster); medians of "
                 "interleaved runs; % roof = % of the measured fp32 FMA peak (half of it "
                 "for float64) for convs, % of copy bandwidth for pools")
    lines.append("- conv throughput counts the direct convolution's multiply-adds whatever "
                 "the algorithm: layers marked 'winograd' (F(4x4, 3x3) or F(2x2, 3x3), 4x or "
                 "2.25x fewer multiply-adds) show effective GFLOP/s and can pass 100% of "
                 "the roof")
    lines += ["", "```", info["fastconv_config"], "```"]
    return lines


#: what a forward conv row's shape cell adds for the Winograd paths
_WINOGRAD_NOTE = {"winograd": ", winograd 4x4", "winograd2": ", winograd 2x2"}


def format_group(key, group):
    """One aligned table for one (threads, dtype, table, layout) group, plus its summary."""
    threads, dtype, table, layout = key
    peers = [p for p in PEER_SHORT if any(p in r["peers"] for r in group)]
    speedup = [r.get("speedup") for r in group if r.get("speedup")]
    header = ["layer", "shape", "fastconv ms", "throughput", "% roof"]
    for p in peers:
        header += [f"{p} ms", f"fc/{PEER_SHORT[p]}"]
    if speedup:
        header.append(f"speedup T{threads} vs T{speedup[0]['base_threads']}")
    header.append("check")
    rows, notes = [header], []
    for r in group:
        fc = r["peers"].get("fastconv")
        desc = r["description"] + _WINOGRAD_NOTE.get(r.get("algorithm"), "")
        if r["skipped"]:
            row = [r["layer"], desc, "skipped", "-", "-"]
        else:
            rate = (f"{r['gflops']:.1f} GF/s" if r["gflops"] is not None else
                    f"{r['gbs']:.1f} GB/s" if r["gbs"] is not None else "-")
            roof = r["pct_peak"] if r["family"] == "conv" else r["pct_bandwidth"]
            row = [r["layer"], desc, _peer_cell(fc, notes), rate,
                   f"{roof:.0f}%" if roof is not None else "-"]
        for p in peers:
            row += [_peer_cell(r["peers"].get(p), notes), _ratio(r["ratios"].get(p))]
        if speedup:
            s = r.get("speedup")
            row.append(f"{s['value']:.2f}" if s else "-")
        check = r.get("check")
        if check is None:
            row.append("-")
        elif check["ok"]:
            row.append("ok")
        else:
            err = check.get("rel_err")
            row.append(f"DIFF {err:.1e} vs {check['against']}" if err is not None
                       else f"DIFF {check.get('note', '')}")
        rows.append(row)
    title = f"## {TABLE_TITLES.get(table, table)}: {layout}, {dtype}, {threads} thread(s)"
    lines = [title, "", align(rows), ""]
    lines += [f"[{i}] {text}" for i, text in enumerate(notes, 1)]
    means = [f"geomean fastconv/{p} {_ratio(s['geomean'])} over {s['layers']} layer(s), "
             f"worst {s['worst_layer']} {_ratio(s['worst_ratio'])}"
             for p, s in summarise(group).items()]
    lines.append("; ".join(means) if means else "no ratio (fastconv or peers unavailable)")
    return "\n".join(lines)


def format_summary(records):
    """One row per group: geomean and worst ratio to torch, and the fastconv roof share."""
    with_speedup = any(r.get("speedup") for r in records)
    peers = [p for p in PEER_SHORT if any(p in r.get("ratios", {}) for r in records)]
    header = ["table", "layout", "dtype", "threads", "layers"]
    for p in peers:
        header += [f"fc/{PEER_SHORT[p]} geomean", f"worst fc/{PEER_SHORT[p]}"]
    rows = [header + ["median % roof"] + (["min speedup vs fewer threads"] if with_speedup
                                          else [])]
    for key, group in group_records(records).items():
        threads, dtype, table, layout = key
        s = summarise(group)
        roofs = sorted(v for v in (r["pct_peak"] if r["family"] == "conv"
                                   else r["pct_bandwidth"] for r in group) if v is not None)
        row = [table, layout, dtype, str(threads), str(len(group))]
        for p in peers:
            row += ([_ratio(s[p]["geomean"]), f"{_ratio(s[p]['worst_ratio'])} "
                     f"{s[p]['worst_layer']}"] if p in s else ["-", "-"])
        row.append(f"{roofs[len(roofs) // 2]:.0f}%" if roofs else "-")
        rows.append(row)
        if with_speedup:
            ups = [(r["speedup"]["value"], r["layer"]) for r in group if r.get("speedup")]
            rows[-1].append(f"{min(ups)[0]:.2f} {min(ups)[1]}" if ups else "-")
    return "## Summary\n\n" + align(rows, numeric_from=4)


def format_report(records, info, options):
    """The whole text report: header, one table per group, summary."""
    parts = ["\n".join(format_header(info, options))]
    for key, group in group_records(records).items():
        parts.append(format_group(key, group))
    if records:
        parts.append(format_summary(records))
    return "\n\n".join(parts) + "\n"
