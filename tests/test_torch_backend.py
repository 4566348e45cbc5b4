"""fastconv.torch: custom ops (opcheck), autograd, drop-in modules, convert, torch.compile."""
import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
fct = pytest.importorskip("fastconv.torch")

import fastconv  # noqa: E402
from tolerances import tolerance  # noqa: E402

nn = torch.nn
F = torch.nn.functional
DTYPES = [torch.float32, torch.float64]


def assert_tensors_close(actual, expected, dtype=None):
    actual, expected = actual.detach(), expected.detach()
    rtol, atol = tolerance("torch", str(dtype or expected.dtype).replace("torch.", ""))
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    torch.testing.assert_close(actual, expected, rtol=rtol * 10, atol=atol * 10 * scale)


# ----------------------------------------------------------------------------
# opcheck: schema, fake tensors, autograd registration, AOT dispatch

def _x(shape, dtype=torch.float64, channels_last=False, grad=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x.requires_grad_(grad)


@pytest.mark.parametrize("channels_last", [False, True])
def test_opcheck_conv2d(channels_last):
    x = _x((2, 3, 7, 6), channels_last=channels_last)
    w, b = _x((4, 3, 3, 2), seed=1), _x((4,), seed=2)
    torch.library.opcheck(torch.ops.fastconv.conv2d.default,
                          (x, w, b, [2, 1], [1, 0, 1, 1], [1, 2], 1))
    torch.library.opcheck(torch.ops.fastconv.conv2d.default,
                          (x[0], w, None, [1, 1], [0, 0, 0, 0], [1, 1], 1))


@pytest.mark.parametrize("channels_last", [False, True])
def test_opcheck_conv2d_backward(channels_last):
    x = _x((2, 4, 6, 5), channels_last=channels_last, grad=False)
    w = _x((6, 2, 3, 3), seed=1, grad=False)
    gy = _x((2, 6, 6, 5), seed=3, channels_last=channels_last, grad=False)
    for mask in ([True, True, True], [False, True, False]):
        torch.library.opcheck(torch.ops.fastconv.conv2d_backward.default,
                              (gy, x, w, [1, 1], [1, 1, 1, 1], [1, 1], 2, mask))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("return_indices", [False, True])
def test_opcheck_max_pool2d(channels_last, return_indices):
    x = _x((2, 3, 7, 7), channels_last=channels_last)
    torch.library.opcheck(torch.ops.fastconv.max_pool2d.default,
                          (x, [3, 2], [2, 2], [1, 1, 0, 0], [1, 1], True, return_indices))


def test_opcheck_max_pool2d_backward():
    x = _x((2, 3, 6, 6), grad=False)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    gy = _x(y.shape, seed=4, grad=False)
    args = ([2, 2], [2, 2], [0, 0, 0, 0], [1, 1], False)
    torch.library.opcheck(torch.ops.fastconv.max_pool2d_backward.default, (gy, x, idx, *args))
    torch.library.opcheck(torch.ops.fastconv.max_pool2d_backward.default,
                          (gy, x, torch.empty(0, dtype=torch.int64), *args))


@pytest.mark.parametrize("channels_last", [False, True])
def test_opcheck_avg_pool2d(channels_last):
    x = _x((2, 3, 7, 6), channels_last=channels_last)
    torch.library.opcheck(torch.ops.fastconv.avg_pool2d.default,
                          (x, [3, 3], [2, 2], [1, 1, 1, 1], True, False, None, [1, 1]))
    torch.library.opcheck(torch.ops.fastconv.avg_pool2d.default,
                          (x, [2, 2], [1, 1], [0, 0, 0, 0], False, True, 3, [1, 1]))


@pytest.mark.parametrize("channels_last", [False, True])
def test_opcheck_avg_pool2d_backward(channels_last):
    gy = _x((2, 3, 4, 4), seed=5, grad=False, channels_last=channels_last)
    torch.library.opcheck(torch.ops.fastconv.avg_pool2d_backward.default,
                          (gy, [2, 3, 7, 6], [3, 3], [2, 2], [1, 1, 1, 1], True, False, None,
                           [1, 1], channels_last))


# ----------------------------------------------------------------------------
# functional API against torch.nn.functional, values and gradients

CONV_CASES = [  # (N, C, H, W, K, kernel, stride, padding, dilation, groups, bias)
    (2, 3, 9, 8, 5, 3, 1, 1, 1, 1, True),
    (1, 4, 10, 7, 6, (3, 2), (2, 1), (1, 0), (1, 2), 2, False),
    (3, 6, 6, 6, 6, 3, 1, "same", 1, 6, True),
    (2, 1, 12, 12, 6, 5, 1, 0, 1, 1, True),
    (2, 8, 5, 5, 4, 1, 2, "valid", 1, 1, True),
]


def _check_grads(out_fc, out_ref, inputs_fc, inputs_ref, dtype):
    assert_tensors_close(out_fc, out_ref, dtype)
    g = torch.randn_like(out_ref)
    grads_fc = torch.autograd.grad(out_fc, inputs_fc, g)
    grads_ref = torch.autograd.grad(out_ref, inputs_ref, g)
    for a, b in zip(grads_fc, grads_ref):
        assert_tensors_close(a, b, dtype)


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_conv2d_matches_torch(case, dtype, channels_last):
    n, c, h, w, k, ks, s, p, d, g, has_bias = case
    kh, kw = (ks, ks) if isinstance(ks, int) else ks
    x = _x((n, c, h, w), dtype, channels_last)
    wt = _x((k, c // g, kh, kw), dtype, seed=1)
    b = _x((k,), dtype, seed=2) if has_bias else None
    y = fct.conv2d(x, wt, b, s, p, d, g)
    ref = F.conv2d(x, wt, b, s, p, d, g)
    if not x.is_contiguous():   # channels_last in, channels_last out (C=1 is both)
        assert y.is_contiguous(memory_format=torch.channels_last)
    inputs = [x, wt] + ([b] if has_bias else [])
    _check_grads(y, ref, inputs, inputs, dtype)


def test_conv2d_unbatched_and_partial_grads():
    x, w = _x((3, 6, 6)), _x((2, 3, 3, 3), seed=1, grad=False)
    y = fct.conv2d(x, w, padding=1)
    assert y.shape == (2, 6, 6)
    _check_grads(y, F.conv2d(x, w, padding=1), [x], [x], torch.float64)
    x2, w2 = _x((2, 3, 5, 5), grad=False), _x((2, 3, 3, 3), seed=1)
    _check_grads(fct.conv2d(x2, w2), F.conv2d(x2, w2), [w2], [w2], torch.float64)


POOL_CASES = [  # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 7), 3, 2, 1, 1, True),
    ((1, 5, 10, 11), (3, 2), (2, 1), (1, 0), (1, 2), False),
    ((2, 4, 7, 7), 3, 2, 1, 2, True),
]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_max_pool2d_matches_torch(case, dtype, channels_last):
    shape, k, s, p, d, ceil = case
    x = _x(shape, dtype, channels_last)
    y, idx = fct.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    ref, ref_idx = F.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    assert torch.equal(idx, ref_idx)
    if not x.is_contiguous():
        assert y.is_contiguous(memory_format=torch.channels_last)
        assert idx.is_contiguous(memory_format=torch.channels_last)
    _check_grads(y, ref, [x], [x], dtype)
    # without indices asked for, the backward pass still has them
    _check_grads(fct.max_pool2d(x, k, s, p, d, ceil), F.max_pool2d(x, k, s, p, d, ceil),
                 [x], [x], dtype)


@pytest.mark.parametrize("case", POOL_CASES[:3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("count_include_pad,divisor", [(True, None), (False, None), (True, 5)])
def test_avg_pool2d_matches_torch(case, dtype, channels_last, count_include_pad, divisor):
    shape, k, s, p, _, ceil = case
    x = _x(shape, dtype, channels_last)
    y = fct.avg_pool2d(x, k, s, p, ceil, count_include_pad, divisor)
    ref = F.avg_pool2d(x, k, s, p, ceil, count_include_pad, divisor)
    _check_grads(y, ref, [x], [x], dtype)


def test_fallback_for_unsupported_tensors():
    x = torch.randn(1, 2, 6, 6, dtype=torch.bfloat16)
    w = torch.randn(3, 2, 3, 3, dtype=torch.bfloat16)
    torch.testing.assert_close(fct.conv2d(x, w), F.conv2d(x, w))
    torch.testing.assert_close(fct.max_pool2d(x, 2), F.max_pool2d(x, 2))
    torch.testing.assert_close(fct.avg_pool2d(x, 2), F.avg_pool2d(x, 2))
    with pytest.raises(RuntimeError):   # mixed dtypes: torch's own error
        fct.conv2d(x.float(), w.double())


def test_bad_arguments_raise():
    x, w = torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3)
    with pytest.raises(ValueError, match="stride"):
        fct.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="groups"):
        fct.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="padding"):
        fct.max_pool2d(x, 2, padding=-1)


# ----------------------------------------------------------------------------
# a small ResNet-style model: convert, outputs, gradients, training

class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


def small_resnet(classes=5):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
        Block(8, 8, 1), Block(8, 16, 2),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 2 * 2, classes))


def _converted_pair(dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    model = small_resnet().to(dtype)
    fast = fct.convert(copy.deepcopy(model))
    return model, fast


def test_convert_swaps_and_keeps_state():
    model, fast = _converted_pair()
    kinds = [type(m) for m in fast.modules()]
    assert fct.Conv2d in kinds and fct.MaxPool2d in kinds and fct.AvgPool2d in kinds
    assert nn.Conv2d not in kinds and nn.MaxPool2d not in kinds and nn.AvgPool2d not in kinds
    assert list(model.state_dict()) == list(fast.state_dict())
    for k, v in model.state_dict().items():
        assert torch.equal(v, fast.state_dict()[k])
    assert repr(model) == repr(fast)


def test_convert_shares_parameters_and_is_idempotent():
    conv = nn.Conv2d(2, 3, 3)
    seq = nn.Sequential(conv)
    fct.convert(seq)
    assert seq[0].weight is conv.weight and isinstance(seq[0], fct.Conv2d)
    first = seq[0]
    fct.convert(seq)
    assert seq[0] is first
    root = fct.convert(nn.MaxPool2d(2))
    assert isinstance(root, fct.MaxPool2d)


def test_convert_leaves_unsupported_layers_with_a_warning():
    class MyConv(nn.Conv2d):
        pass

    seq = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"),
                        nn.Conv2d(2, 2, 3).half(), MyConv(2, 2, 1), nn.Conv2d(2, 2, 1))
    with pytest.warns(UserWarning) as record:
        fct.convert(seq)
    messages = " ".join(str(r.message) for r in record)
    assert "padding_mode='reflect'" in messages and "float16" in messages
    assert "MyConv" in messages
    assert [type(m) for m in seq] == [nn.Conv2d, nn.Conv2d, MyConv, fct.Conv2d]


@pytest.mark.parametrize("channels_last", [False, True])
def test_converted_model_matches_outputs_and_gradients(channels_last):
    model, fast = _converted_pair()
    x = _x((3, 3, 16, 16), torch.float64, channels_last, grad=False, seed=7)
    target = torch.tensor([0, 3, 1])
    outs = []
    for m in (model, fast):
        m.train()
        m.zero_grad()
        out = m(x)
        F.cross_entropy(out, target).backward()
        outs.append(out)
    assert_tensors_close(outs[1], outs[0])
    for (name, p), (_, q) in zip(model.named_parameters(), fast.named_parameters()):
        assert q.grad is not None, name
        assert_tensors_close(q.grad, p.grad)


def test_converted_model_trains_like_the_original():
    model, fast = _converted_pair(torch.float32, seed=1)
    opts = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in (model, fast)]
    g = torch.Generator().manual_seed(3)
    for _ in range(4):
        x = torch.randn(4, 3, 16, 16, generator=g)
        target = torch.randint(0, 5, (4,), generator=g)
        for m, opt in zip((model, fast), opts):
            opt.zero_grad()
            F.cross_entropy(m(x), target).backward()
            opt.step()
    for p, q in zip(model.parameters(), fast.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-3, atol=1e-4)


def test_inference_mode_and_no_grad():
    model, fast = _converted_pair()
    model.eval(), fast.eval()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    with torch.inference_mode():
        assert_tensors_close(fast(x), model(x))
    with torch.no_grad():
        assert_tensors_close(fast(x), model(x))


# ----------------------------------------------------------------------------
# torch.compile

def tiny_cnn():
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, stride=2, bias=False), nn.AvgPool2d(2, ceil_mode=True),
                         nn.Flatten(), nn.Linear(8, 4))


def _run_compiled(compiled, x, backend):
    try:
        return compiled(x)
    except Exception as exc:  # a missing C++ toolchain shows up at the first call
        text = f"{type(exc).__name__}: {exc}"
        if backend == "inductor" and any(s in text for s in (
                "CppCompileError", "InvalidCxxCompiler", "compiler", "cpp_builder")):
            pytest.skip(f"inductor's C++ toolchain is unavailable: {text[:200]}")
        raise


def _check_compiled(backend, channels_last=False, backward=True):
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = tiny_cnn()
    fast = fct.convert(copy.deepcopy(model))
    compiled = torch.compile(fast, fullgraph=True, backend=backend)
    x = torch.randn(2, 3, 12, 12)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    if not backward:
        with torch.no_grad():
            assert_tensors_close(_run_compiled(compiled, x, backend), model(x))
        return
    out = _run_compiled(compiled, x, backend)
    ref = model(x)
    assert_tensors_close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    for p, q in zip(model.parameters(), fast.parameters()):
        assert_tensors_close(q.grad, p.grad)


def test_torch_compile_fullgraph_aot_eager_forward_backward():
    # dynamo + AOT autograd on the fake kernels and autograd formulas, no C++ compiler
    _check_compiled("aot_eager", channels_last=True)


def test_torch_compile_fullgraph_inductor_inference():
    _check_compiled("inductor", backward=False)


@pytest.mark.slow
def test_torch_compile_fullgraph_inductor_training():
    _check_compiled("inductor", channels_last=True)


def test_custom_ops_in_exported_graph():
    fast = fct.convert(tiny_cnn()).eval()
    exported = torch.export.export(fast, (torch.randn(1, 3, 12, 12),))
    targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    assert {"fastconv.conv2d.default", "fastconv.max_pool2d.default",
            "fastconv.avg_pool2d.default"} <= targets


@pytest.mark.parametrize("channels_last", [False, True])
def test_ops_hand_fastconv_views_of_the_tensors(monkeypatch, channels_last):
    seen = []
    real = fastconv.conv2d

    def spy(x, w, *args, **kwargs):
        seen.append((x, w, kwargs["layout"]))
        return real(x, w, *args, **kwargs)

    monkeypatch.setattr(fastconv, "conv2d", spy)
    x = _x((2, 3, 6, 6), torch.float32, channels_last, grad=False)
    w = _x((4, 3, 3, 3), torch.float32, seed=1, grad=False)
    fct.conv2d(x, w, padding=1)
    (xa, wa, layout), = seen
    assert layout == ("NHWC" if channels_last else "NCHW")
    assert np.shares_memory(xa, x.numpy()) and np.shares_memory(wa, w.numpy())
