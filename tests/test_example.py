"""examples/lenet_digits.py: a short run learns (loss falls, accuracy far above chance)."""
import importlib.util
import io
import pathlib

import pytest

pytest.importorskip("sklearn")

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "lenet_digits.py"


@pytest.fixture(scope="module")
def lenet():
    spec = importlib.util.spec_from_file_location("lenet_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_quick_training_learns(lenet, layout):
    log = io.StringIO()
    history = lenet.train(epochs=2, layout=layout, quick=True, stream=log)
    batch_loss = history["batch_loss"]
    first, last = sum(batch_loss[:5]) / 5, sum(batch_loss[-5:]) / 5
    assert last < 0.5 * first, (first, last)
    assert history["train_loss"][1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 0.6          # chance is 0.1
    assert "epoch 2/2" in log.getvalue()


def test_main_writes_the_plot(lenet, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    history = lenet.main(["--quick", "--epochs", "1", "--plot", str(path)])
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert "test accuracy" in out and str(path) in out
    assert len(history["test_acc"]) == 1
