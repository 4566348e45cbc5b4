"""Train a LeNet-5 on scikit-learn's bundled digits with fastconv.nn (NumPy only, no torch).

The 8x8 digit images (1797 of them, shipped with scikit-learn: no download)
are upsampled 4x to the 32x32 input LeNet-5 was designed for, then::

    conv 5x5, 6 -> ReLU -> max-pool 2 -> conv 5x5, 16 -> ReLU -> max-pool 2
    -> Linear 400-120 -> ReLU -> Linear 120-84 -> ReLU -> Linear 84-10

is trained with Adam (cosine learning-rate decay, random shifts of up to 2
pixels as augmentation) on 80% of the images and tested on the other 20%. A
progress bar goes to stderr, and a plot of the loss and accuracy per epoch is
saved (``--plot``).

Usage::

    pip install fastconv[examples]        # scikit-learn, matplotlib
    python examples/lenet_digits.py [--epochs 15] [--plot lenet_digits.png] [--quick]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

# The Linear layers are NumPy matmuls of a few hundred features: BLAS threads only
# add synchronisation there (and compete with fastconv's OpenMP threads).
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import fastconv  # noqa: E402
from fastconv import nn  # noqa: E402


def load_digits(size=32, seed=0):
    """(x_train, y_train, x_test, y_test): float32 images (N, 1, size, size) in [0, 1]."""
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    digits = sk_load_digits()
    x = digits.images.astype(np.float32) / 16.0
    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    scale = size // 8
    x = x.repeat(scale, axis=1).repeat(scale, axis=2)[:, None]   # nearest-neighbour upsampling
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target, test_size=0.2,
                                              stratify=digits.target, random_state=seed)
    mean, std = x_tr.mean(), x_tr.std()
    return (x_tr - mean) / std, y_tr, (x_te - mean) / std, y_te


def lenet5(layout="NCHW", seed=0):
    """LeNet-5 for 1x32x32 input (ReLU and max pooling instead of tanh and subsampling)."""
    rng = np.random.default_rng(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, layout=layout, rng=rng), nn.ReLU(), nn.MaxPool2d(2, layout=layout),
        nn.Conv2d(6, 16, 5, layout=layout, rng=rng), nn.ReLU(), nn.MaxPool2d(2, layout=layout),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120, rng=rng), nn.ReLU(),
        nn.Linear(120, 84, rng=rng), nn.ReLU(),
        nn.Linear(84, 10, rng=rng),
    )
    net[0].input_grad = False   # nothing needs the gradient of the images
    return net


class Progress:
    """A dependency-free progress bar on stderr (one line per epoch when not a terminal)."""

    def __init__(self, total, stream=sys.stderr, width=30):
        self.total, self.stream, self.width = total, stream, width
        self.live = hasattr(stream, "isatty") and stream.isatty()

    def update(self, done, text):
        if self.live:
            filled = int(self.width * done / self.total)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{self.total} {text}")
            self.stream.flush()

    def close(self, text):
        self.stream.write(("\r" if self.live else "") + text + " " * 20 + "\n")
        self.stream.flush()


def shift(x, rng, max_shift=2):
    """Translate each NCHW image by up to ``max_shift`` pixels (data augmentation)."""
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (max_shift,) * 2, (max_shift,) * 2), mode="edge")
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)                           # (n, h)
    cols = dx[:, None] + np.arange(w)                           # (n, w)
    return padded[np.arange(n)[:, None, None, None], np.arange(x.shape[1])[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def accuracy(net, x, y, batch=512):
    correct = 0
    for i in range(0, len(x), batch):
        correct += int((net(x[i:i + batch]).argmax(axis=1) == y[i:i + batch]).sum())
    return correct / len(x)


def save_plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history["train_loss"], "o-", label="train")
    ax1.plot(epochs, history["test_loss"], "s-", label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
    ax1.legend()
    ax2.plot(epochs, 100 * np.array(history["train_acc"]), "o-", label="train")
    ax2.plot(epochs, 100 * np.array(history["test_acc"]), "s-", label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax2.legend()
    fig.suptitle("LeNet-5 on sklearn digits, fastconv.nn")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(epochs=15, batch_size=32, lr=3e-3, layout="NCHW", seed=0, quick=False,
          augment=True, stream=sys.stderr):
    """Train and return the history dict (per-epoch losses and accuracies, seconds)."""
    x_tr, y_tr, x_te, y_te = load_digits()
    if quick:   # a short smoke run: a third of the training set
        x_tr, y_tr = x_tr[:480], y_tr[:480]
    to_layout = (lambda a: a) if layout == "NCHW" else \
        (lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1)))
    x_te = to_layout(x_te)
    net = lenet5(layout, seed)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.Adam(net.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "test_loss": [], "train_acc": [], "test_acc": [],
               "batch_loss": []}
    nbatches = -(-len(x_tr) // batch_size)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        bar = Progress(nbatches, stream)
        order = rng.permutation(len(x_tr))
        total, correct = 0.0, 0
        for b in range(nbatches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            xb = shift(x_tr[idx], rng) if augment else x_tr[idx]
            logits = net(to_layout(xb))
            loss = loss_fn(logits, y_tr[idx])
            opt.zero_grad()
            net.backward(loss_fn.backward())
            # cosine learning-rate decay over the whole run: the last epochs settle
            opt.lr = 0.5 * lr * (1 + np.cos(np.pi * ((epoch - 1) * nbatches + b) /
                                            (epochs * nbatches)))
            opt.step()
            history["batch_loss"].append(loss)
            total += loss * len(idx)
            correct += int((logits.argmax(axis=1) == y_tr[idx]).sum())
            bar.update(b + 1, f"epoch {epoch}/{epochs} loss {loss:.4f}")
        test_logits = net(x_te)
        history["train_loss"].append(total / len(x_tr))
        history["train_acc"].append(correct / len(x_tr))
        history["test_loss"].append(loss_fn(test_logits, y_te))
        history["test_acc"].append(float((test_logits.argmax(axis=1) == y_te).mean()))
        bar.close(f"epoch {epoch}/{epochs}: train loss {history['train_loss'][-1]:.4f} "
                  f"acc {100 * history['train_acc'][-1]:.1f}% | test loss "
                  f"{history['test_loss'][-1]:.4f} acc {100 * history['test_acc'][-1]:.2f}% "
                  f"| {time.perf_counter() - start:.1f} s")
    history["seconds"] = time.perf_counter() - start
    history["net"] = net
    return history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default 15, or 3 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam peak learning rate")
    parser.add_argument("--layout", choices=["NCHW", "NHWC"], default="NCHW")
    parser.add_argument("--threads", type=int, default=None, help="fastconv threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="lenet_digits.png",
                        help="where to save the loss/accuracy plot ('' to skip)")
    parser.add_argument("--no-augment", action="store_true", help="no random shifts")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    if args.threads:
        fastconv.set_num_threads(args.threads)
    epochs = args.epochs if args.epochs is not None else (3 if args.quick else 15)
    history = train(epochs, args.batch_size, args.lr, args.layout, args.seed, args.quick,
                    not args.no_augment)
    print(f"test accuracy {100 * history['test_acc'][-1]:.2f}% after {epochs} epochs in "
          f"{history['seconds']:.1f} s ({fastconv.get_num_threads()} threads, "
          f"isa {fastconv.get_isa()}, layout {args.layout})")
    if args.plot:
        try:
            save_plot(history, args.plot)
            print(f"plot saved to {args.plot}")
        except ImportError:
            print("matplotlib is not installed: no plot (pip install fastconv[examples])",
                  file=sys.stderr)
    return history


if __name__ == "__main__":
    main()
