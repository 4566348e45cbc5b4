"""DistributedDataParallel (gloo, 2 spawned processes) training a fastconv-converted CNN.

Both ranks must end with identical parameters, equal (to float64 rounding) to
one process training on the two ranks' batches combined.
"""
import copy
import datetime
import os
import socket
import time

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is unavailable", allow_module_level=True)

WORLD = 2
STEPS = 4
BATCH = 3          # per rank
TIMEOUT_S = 240    # whole spawn + train + join


def small_cnn():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True),
                         nn.Flatten(), nn.Linear(6 * 2 * 2, 3)).double()


def make_model():
    import fastconv.torch as fct
    torch.manual_seed(0)
    return fct.convert(small_cnn())


def make_data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(STEPS, WORLD * BATCH, 1, 10, 10, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (STEPS, WORLD * BATCH), generator=g)
    return x, y


def train(model, batches, params):
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    for x, y in batches:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _worker(rank, port, out_dir):
    import fastconv
    from torch.nn.parallel import DistributedDataParallel as DDP
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    fastconv.set_num_threads(1)     # two processes on a shared machine
    dist.init_process_group("gloo", rank=rank, world_size=WORLD,
                            timeout=datetime.timedelta(seconds=TIMEOUT_S // 2))
    try:
        model = make_model()
        ddp = DDP(model)
        x, y = make_data()
        part = slice(rank * BATCH, (rank + 1) * BATCH)
        train(ddp, [(x[s, part], y[s, part]) for s in range(STEPS)], ddp.parameters())
        kinds = sorted({type(m).__module__ + "." + type(m).__name__ for m in model.modules()})
        torch.save({"state": model.state_dict(), "kinds": kinds},
                   os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_match_single_process(tmp_path):
    import torch.multiprocessing as mp
    ctx = mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD,
                             join=False, start_method="spawn")
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while not ctx.join(timeout=2):
            if time.monotonic() > deadline:
                pytest.fail(f"DDP workers did not finish within {TIMEOUT_S} s")
    finally:
        for p in ctx.processes:
            if p.is_alive():
                p.kill()
                p.join(5)

    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    assert "fastconv.torch.Conv2d" in results[0]["kinds"]
    assert "fastconv.torch.MaxPool2d" in results[0]["kinds"]
    assert "fastconv.torch.AvgPool2d" in results[0]["kinds"]
    assert "torch.nn.modules.conv.Conv2d" not in results[0]["kinds"]
    states = [r["state"] for r in results]
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), f"ranks disagree on {k}"

    single = make_model()
    initial = copy.deepcopy(single.state_dict())
    x, y = make_data()
    train(single, [(x[s], y[s]) for s in range(STEPS)], single.parameters())
    torch.manual_seed(0)
    plain = small_cnn()        # the same run with torch's own layers
    train(plain, [(x[s], y[s]) for s in range(STEPS)], plain.parameters())
    for k, v in single.state_dict().items():
        assert not torch.equal(v, initial[k]), f"{k} did not train"
        torch.testing.assert_close(states[0][k], v, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(plain.state_dict()[k], v, rtol=1e-9, atol=1e-11)
