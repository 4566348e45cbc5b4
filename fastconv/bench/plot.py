"""Bar chart of the ratio fastconv/peer per layer (needs matplotlib)."""
from __future__ import annotations

from .report import PEER_SHORT, group_records

__all__ = ["require_matplotlib", "plot_ratios"]


def require_matplotlib():
    """Import matplotlib (Agg backend) or raise a RuntimeError saying how to get it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install matplotlib "
                           "(or pip install 'fastconv[plot]')") from None
    return plt


def plot_ratios(records, path):
    """Save one horizontal bar panel per group: ratio to each peer, log scale, 1.0 line.

    Parameters
    ----------
    records : list of dict
        As returned by ``runner.run``.
    path : str
        Output image file (PNG).
    """
    plt = require_matplotlib()
    groups = [(k, g) for k, g in group_records(records).items()
              if any(r.get("ratios") for r in g)]
    if not groups:
        raise RuntimeError("nothing to plot: no layer has a ratio (is fastconv built?)")
    heights = [max(1.5, 0.35 * len(g) * max(1, len({p for r in g for p in r["ratios"]})))
               for _, g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, sum(heights) + 1),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, ((threads, dtype, table, layout), group) in zip(axes[:, 0], groups):
        peers = [p for p in PEER_SHORT if any(p in r["ratios"] for r in group)]
        bar = 0.8 / max(1, len(peers))
        ratios = []
        for j, peer in enumerate(peers):
            ys = [i + j * bar for i in range(len(group))]
            xs = [r["ratios"].get(peer, float("nan")) for r in group]
            # bars grow from the 1.0 line: left of it fastconv is faster
            ax.barh(ys, [x - 1.0 for x in xs], left=1.0, height=bar,
                    label=f"fastconv / {peer}")
            ratios += [x for x in xs if x == x and x > 0]
        ax.set_yticks([i + bar * (len(peers) - 1) / 2 for i in range(len(group))])
        ax.set_yticklabels([r["layer"] for r in group], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        if ratios:
            ax.set_xlim(min(ratios + [1.0]) / 1.3, max(ratios + [1.0]) * 1.3)
        ax.axvline(1.0, color="k", linewidth=1)
        ax.set_title(f"{table} {layout} {dtype} T{threads} (time ratio, < 1 = fastconv faster)",
                     fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
