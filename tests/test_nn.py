"""fastconv.nn: layers against fastconv.reference and finite differences, optimisers, repr."""

import numpy as np
import pytest

import fastconv
from fastconv import nn, reference
from conftest import python_subprocess, to_layout
from tolerances import assert_close


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def test_import_does_not_import_torch_or_jax():
    code = ("import sys, fastconv, fastconv.nn; "
            "bad = [m for m in ('torch', 'jax') if m in sys.modules]; "
            "assert not bad, bad")
    python_subprocess(["-c", code], check=True, timeout=120)


# ----------------------------------------------------------------------------
# layers against the reference

CONV_CASES = [  # (C_in, C_out, kernel, stride, padding, dilation, groups, bias, H, W)
    (3, 5, 3, 1, 1, 1, 1, True, 7, 9),
    (4, 6, (3, 2), (2, 1), "same", (1, 2), 2, False, 8, 7),
    (6, 6, 3, 1, ((1, 0), (2, 1)), 1, 6, True, 5, 6),
    (1, 6, 5, 1, 0, 1, 1, True, 12, 12),
    (8, 4, 1, 2, "valid", 1, 1, True, 5, 5),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_layer_matches_reference(case, dtype, layout, isa, rng):
    cin, cout, k, s, p, d, g, bias, h, w = case
    conv = nn.Conv2d(cin, cout, k, s, p, d, g, bias, layout=layout, dtype=dtype, rng=0)
    x = to_layout(_rand(rng, (3, cin, h, w), dtype), layout)
    b = None if conv.bias is None else conv.bias.data
    args = (s, p, d, g)
    y = conv(x)
    kh, kw = conv.kernel_size
    assert_close(y, reference.conv2d(x, conv.weight.data, b, *args, layout=layout), "conv2d",
                 reduction=cin // g * kh * kw)
    gy = _rand(rng, y.shape, dtype)
    gx = conv.backward(gy)
    rx, rw, rb = reference.conv2d_backward(gy, x, conv.weight.data, *args, layout=layout,
                                           bias_grad=bias)
    n_out = y.size // cout
    assert_close(gx, rx, "conv2d_backward", reduction=cout // g * kh * kw)
    assert_close(conv.weight.grad, rw, "conv2d_backward", reduction=n_out)
    if bias:
        assert_close(conv.bias.grad, rb, "conv2d_backward", reduction=n_out)
    else:
        assert conv.bias is None and len(conv.parameters()) == 1


def test_conv2d_gradients_accumulate_and_input_grad_flag(rng):
    conv = nn.Conv2d(2, 3, 3, padding=1, rng=1)
    x = _rand(rng, (2, 2, 5, 5), np.float32)
    gy = _rand(rng, (2, 3, 5, 5), np.float32)
    conv(x)
    conv.backward(gy)
    once = conv.weight.grad.copy()
    conv.backward(gy)
    assert_close(conv.weight.grad, 2 * once, "conv2d_backward", reduction=50)
    conv.zero_grad()
    assert conv.weight.grad is None and conv.bias.grad is None
    conv.input_grad = False
    assert conv.backward(gy) is None
    assert_close(conv.weight.grad, once, "conv2d_backward", reduction=50)


def test_conv2d_unbatched(rng):
    conv = nn.Conv2d(3, 4, 3, rng=0, dtype=np.float64)
    x = _rand(rng, (3, 6, 6), np.float64)
    y = conv(x)
    assert y.shape == (4, 4, 4)
    assert conv.backward(np.ones_like(y)).shape == x.shape


POOL_CASES = [  # (kernel, stride, padding, dilation, ceil_mode, H, W)
    (2, None, 0, 1, False, 8, 8),
    (3, 2, 1, 1, True, 9, 7),
    ((3, 2), (2, 1), (1, 0), (1, 2), False, 10, 11),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_layer_matches_reference(case, dtype, layout, rng):
    k, s, p, d, ceil, h, w = case
    pool = nn.MaxPool2d(k, s, p, d, return_indices=True, ceil_mode=ceil, layout=layout)
    x = to_layout(_rand(rng, (2, 3, h, w), dtype), layout)
    y, idx = pool(x)
    ry, ridx = reference.max_pool2d(x, k, s, p, d, ceil, return_indices=True, layout=layout)
    assert_close(y, ry, "max_pool2d")
    np.testing.assert_array_equal(idx, ridx)
    gy = _rand(rng, y.shape, dtype)
    assert_close(pool.backward(gy),
                 reference.max_pool2d_backward(gy, x, k, s, p, d, ceil, layout=layout),
                 "pool_backward")


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("count_include_pad,divisor", [(True, None), (False, None), (True, 5)])
def test_avg_pool_layer_matches_reference(case, count_include_pad, divisor, dtype, layout, rng):
    k, s, p, d, ceil, h, w = case
    pool = nn.AvgPool2d(k, s, p, ceil, count_include_pad, divisor, dilation=d, layout=layout)
    x = to_layout(_rand(rng, (2, 3, h, w), dtype), layout)
    y = pool(x)
    opts = (k, s, p, ceil, count_include_pad, divisor)
    assert_close(y, reference.avg_pool2d(x, *opts, dilation=d, layout=layout), "avg_pool2d")
    gy = _rand(rng, y.shape, dtype)
    assert_close(pool.backward(gy),
                 reference.avg_pool2d_backward(gy, x.shape, *opts, dilation=d, layout=layout),
                 "pool_backward")


# ----------------------------------------------------------------------------
# finite differences through a whole network (float64)

def small_net(layout, rng):
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, layout=layout, dtype=np.float64, rng=rng), nn.ReLU(),
        nn.MaxPool2d(2, layout=layout),
        nn.Conv2d(3, 4, 3, stride=1, padding="same", layout=layout, dtype=np.float64, rng=rng),
        nn.AvgPool2d(2, ceil_mode=True, layout=layout), nn.Flatten(),
        nn.Linear(4 * 2 * 2, 5, dtype=np.float64, rng=rng), nn.ReLU(),
        nn.Linear(5, 3, dtype=np.float64, rng=rng))


def test_network_gradients_match_finite_differences(layout):
    rng = np.random.default_rng(5)
    net = small_net(layout, rng)
    x = to_layout(rng.standard_normal((4, 2, 7, 7)), layout)
    target = np.array([0, 2, 1, 2])
    loss_fn = nn.CrossEntropyLoss()

    def loss():
        return loss_fn(net(x), target)

    loss()
    net.zero_grad()
    gx = net.backward(loss_fn.backward())
    eps = 1e-6
    checks = [(p, p.grad) for p in net.parameters()] + [(None, gx)]
    for param, grad in checks:
        data = x if param is None else param.data
        flat, gflat = data.reshape(-1), grad.reshape(-1)
        for i in rng.choice(flat.size, size=min(6, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = loss()
            flat[i] = old - eps
            down = loss()
            flat[i] = old
            assert_close(np.array(gflat[i]), np.array((up - down) / (2 * eps)),
                         "finite_difference")


# ----------------------------------------------------------------------------
# the small layers, the loss, init, repr, errors

def test_relu_flatten_linear(rng):
    x = _rand(rng, (3, 2, 4), np.float64)
    relu, flat = nn.ReLU(), nn.Flatten()
    np.testing.assert_array_equal(relu(x), np.maximum(x, 0))
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), (x > 0).astype(float))
    assert flat(x).shape == (3, 8) and flat.backward(flat(x)).shape == x.shape
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    fc = nn.Linear(8, 5, dtype=np.float64, rng=0)
    y = fc(flat(x))
    np.testing.assert_allclose(y, flat(x) @ fc.weight.data.T + fc.bias.data)
    gy = _rand(rng, y.shape, np.float64)
    gx = fc.backward(gy)
    np.testing.assert_allclose(gx, gy @ fc.weight.data)
    np.testing.assert_allclose(fc.weight.grad, gy.T @ flat(x))
    np.testing.assert_allclose(fc.bias.grad, gy.sum(0))


def test_cross_entropy():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    target = np.array([0, 1])
    loss_fn = nn.CrossEntropyLoss()
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss_fn(logits, target) == pytest.approx(-np.log(p[[0, 1], target]).mean())
    expected = p.copy()
    expected[[0, 1], target] -= 1
    np.testing.assert_allclose(loss_fn.backward(), expected / 2)
    assert np.isfinite(loss_fn(np.array([[1e4, -1e4]]), np.array([1])))
    with pytest.raises(ValueError, match="target"):
        loss_fn(logits, np.array([0, 3]))


def test_kaiming_uniform_init_is_seeded_and_bounded():
    a = nn.Conv2d(4, 8, 3, groups=2, rng=7)
    b = nn.Conv2d(4, 8, 3, groups=2, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.dtype == np.float32 and a.weight.shape == (8, 2, 3, 3)
    bound = 1 / np.sqrt(2 * 9)
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.bias.data).max() <= bound
    big = nn.Linear(400, 300, rng=0).weight.data
    assert big.std() == pytest.approx(1 / np.sqrt(400) / np.sqrt(3), rel=0.02)
    assert not np.array_equal(nn.Conv2d(4, 8, 3, rng=1).weight.data,
                              nn.Conv2d(4, 8, 3, rng=2).weight.data)


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
         torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)),
        (nn.Conv2d(4, 4, (3, 5), dilation=2, groups=4), torch.nn.Conv2d(4, 4, (3, 5), dilation=2,
                                                                       groups=4)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.Linear(4, 2), torch.nn.Linear(4, 2)),
        (nn.ReLU(), torch.nn.ReLU()), (nn.Flatten(), torch.nn.Flatten()),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()),
         torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    assert repr(nn.Conv2d(1, 2, 3, layout="NHWC")).endswith("layout='NHWC')")


def test_same_network_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = small_net("NCHW", rng)
    tnn = torch.nn
    theirs = tnn.Sequential(
        tnn.Conv2d(2, 3, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(3, 4, 3, padding="same"), tnn.AvgPool2d(2, ceil_mode=True), tnn.Flatten(),
        tnn.Linear(16, 5), tnn.ReLU(), tnn.Linear(5, 3)).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((4, 2, 7, 7))
    target = np.array([0, 2, 1, 2])
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(ours(x), target)
    ours.backward(loss_fn.backward())
    tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(target))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind,kwargs", [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
])
def test_optimizers_match_torch(kind, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    start = rng.standard_normal((3, 4))
    p = nn.Parameter(start.copy())
    q = torch.nn.Parameter(torch.from_numpy(start.copy()))
    ours = getattr(nn, kind)([p], **kwargs)
    theirs = getattr(torch.optim, kind)([q], **kwargs)
    for _ in range(5):
        g = rng.standard_normal((3, 4))
        ours.zero_grad()
        p.accumulate(g)
        q.grad = torch.from_numpy(g.copy())
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_training_reduces_the_loss(layout):
    rng = np.random.default_rng(3)
    net = small_net(layout, rng)
    x = to_layout(rng.standard_normal((16, 2, 7, 7)), layout)
    target = rng.integers(0, 3, 16)
    loss_fn, opt = nn.CrossEntropyLoss(), nn.Adam(net.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        losses.append(loss_fn(net(x), target))
        opt.zero_grad()
        net.backward(loss_fn.backward())
        opt.step()
    assert losses[-1] < 0.5 * losses[0]


def test_state_dict_round_trip_and_train_flag():
    a, b = small_net("NCHW", 1), small_net("NCHW", 2)
    assert list(a.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight",
                                    "6.bias", "8.weight", "8.bias"]
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    with pytest.raises(KeyError):
        b.load_state_dict({"0.weight": a[0].weight.data})
    assert not a.eval().training and not a[0].training and a.train()[0].training


def test_bad_arguments():
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(TypeError, match="dtype"):
        nn.Conv2d(1, 1, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="layout"):
        nn.MaxPool2d(2, layout="NCWH")
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Conv2d(1, 1, 3).backward(np.zeros((1, 1, 1, 1), np.float32))
    with pytest.raises(TypeError):
        nn.Sequential(nn.ReLU(), "relu")
    with pytest.raises(ValueError, match="features"):
        nn.Linear(3, 2)(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="channels"):
        nn.Conv2d(3, 4, 3)(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        nn.Conv2d(1, 1, 3)(np.zeros((1, 1, 5, 5), np.float64))


def test_fastconv_ops_are_used(monkeypatch):
    calls = []
    real = fastconv.conv2d

    def spy(*args, **kwargs):
        calls.append(kwargs.get("layout"))
        return real(*args, **kwargs)

    monkeypatch.setattr(fastconv, "conv2d", spy)
    nn.Conv2d(1, 2, 3, layout="NHWC")(np.zeros((1, 5, 5, 1), np.float32))
    assert calls == ["NHWC"]
