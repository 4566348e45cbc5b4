"""fastconv as a PyTorch backend: custom ops with autograd, drop-in modules, ``convert``.

Importing this submodule imports torch (``import fastconv`` never does) and
registers six operators in the ``fastconv`` namespace with
``torch.library.custom_op``::

    torch.ops.fastconv.conv2d            torch.ops.fastconv.conv2d_backward
    torch.ops.fastconv.max_pool2d        torch.ops.fastconv.max_pool2d_backward
    torch.ops.fastconv.avg_pool2d        torch.ops.fastconv.avg_pool2d_backward

Each has a fake (meta) implementation, so they trace under ``torch.compile``
(``fullgraph=True``), ``torch.export`` and FX, and the forward ops have
autograd formulas that call the backward ops. CPU tensors are handed to the
kernels without copies: a contiguous tensor is its NCHW NumPy view, a
``channels_last`` tensor is viewed as NHWC, and outputs (in the input's memory
format) wrap the kernels' NumPy results with ``torch.from_numpy``.

On top of the ops: functional ``conv2d``, ``max_pool2d`` and ``avg_pool2d`` with
``torch.nn.functional``'s signatures; modules ``Conv2d``, ``MaxPool2d`` and
``AvgPool2d`` that subclass ``torch.nn``'s (same constructor, same
``state_dict``); and ``convert(model)``, which swaps a model's ``nn.Conv2d``,
``nn.MaxPool2d`` and ``nn.AvgPool2d`` for them in place.

What fastconv does not compute (tensors off the CPU, dtypes other than float32
and float64, mixed dtypes) falls back to ``torch.nn.functional`` in the
functional wrappers and modules; ``convert`` leaves alone (with a warning) the
layers it could never serve (``padding_mode`` other than "zeros", weights of
another dtype or device, subclasses with their own ``forward``). Double
backward (gradients of gradients) is not supported.

Examples
--------
>>> import torch
>>> import fastconv.torch as fct
>>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
...                             torch.nn.MaxPool2d(2))
>>> model = fct.convert(model)
>>> model[0]
Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
>>> type(model[0]).__module__
'fastconv.torch'
>>> y = model(torch.randn(2, 3, 8, 8))
>>> y.sum().backward()
>>> model[0].weight.grad.shape
torch.Size([8, 3, 3, 3])
"""
import warnings
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

import fastconv as _fc

from . import _shapes

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "Conv2d", "MaxPool2d", "AvgPool2d",
           "convert", "supported"]

_DTYPES = (torch.float32, torch.float64)


# ----------------------------------------------------------------------------
# tensors <-> NumPy, without copies where the memory allows

def _is_nhwc(t):
    """Whether the 4-D activation ``t`` is channels_last (and not also plain contiguous)."""
    return (t.dim() == 4 and not t.is_contiguous()
            and t.is_contiguous(memory_format=torch.channels_last))


def _layout(nhwc):
    return "NHWC" if nhwc else "NCHW"


def _act_numpy(t, nhwc):
    """NumPy view of an activation in fastconv's layout (copies only if strided otherwise)."""
    t = t.detach()
    if nhwc:
        return t.contiguous(memory_format=torch.channels_last).permute(0, 2, 3, 1).numpy()
    return t.contiguous().numpy()


def _act_tensor(a, nhwc):
    """Tensor (logical NCHW) sharing the memory of a result in fastconv's layout."""
    import numpy as np
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.permute(0, 3, 1, 2) if nhwc else t


def _empty_act(shape, like, nhwc, dtype=None):
    fmt = torch.channels_last if nhwc else torch.contiguous_format
    return torch.empty(shape, dtype=dtype or like.dtype, device=like.device, memory_format=fmt)


def _padding(pad4):
    t, b, l, r = pad4
    return (t, b), (l, r)


def _spatial(t):
    """(N, C, H, W) of a 3-D (unbatched) or 4-D activation; N is None when unbatched."""
    if t.dim() == 4:
        return tuple(t.shape)
    return (None,) + tuple(t.shape)


def _out_shape(t, channels, oh, ow):
    n = _spatial(t)[0]
    return (channels, oh, ow) if n is None else (n, channels, oh, ow)


def _pool_out_hw(input, kernel_size, stride, padding, dilation, ceil_mode):
    _, _, h, w = _spatial(input)
    (pt, pb), (pl, pr) = _padding(padding)
    oh = _shapes.output_size(h, kernel_size[0], stride[0], dilation[0], pt, pb, ceil_mode, "height")
    ow = _shapes.output_size(w, kernel_size[1], stride[1], dilation[1], pl, pr, ceil_mode, "width")
    return oh, ow


# ----------------------------------------------------------------------------
# conv2d

@torch.library.custom_op("fastconv::conv2d", mutates_args=(), device_types="cpu")
def _conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor], stride: Sequence[int],
            padding: Sequence[int], dilation: Sequence[int], groups: int) -> Tensor:
    """``padding`` is ``[top, bottom, left, right]``."""
    nhwc = _is_nhwc(input)
    y = _fc.conv2d(_act_numpy(input, nhwc), weight.detach().numpy(),
                   None if bias is None else bias.detach().numpy(), tuple(stride),
                   _padding(padding), tuple(dilation), groups, layout=_layout(nhwc))
    return _act_tensor(y, nhwc)


@_conv2d.register_fake
def _conv2d_fake(input, weight, bias, stride, padding, dilation, groups):
    _, _, h, w = _spatial(input)
    k, _, kh, kw = weight.shape
    (pt, pb), (pl, pr) = _padding(padding)
    oh = _shapes.output_size(h, kh, stride[0], dilation[0], pt, pb, dim="height")
    ow = _shapes.output_size(w, kw, stride[1], dilation[1], pl, pr, dim="width")
    return _empty_act(_out_shape(input, k, oh, ow), input, _is_nhwc(input))


@torch.library.custom_op("fastconv::conv2d_backward", mutates_args=(), device_types="cpu")
def _conv2d_backward(grad_output: Tensor, input: Tensor, weight: Tensor, stride: Sequence[int],
                     padding: Sequence[int], dilation: Sequence[int], groups: int,
                     output_mask: Sequence[bool]) -> tuple[Tensor, Tensor, Tensor]:
    """(grad_input, grad_weight, grad_bias); a slot whose mask is False is an empty tensor."""
    nhwc = _is_nhwc(input)
    gi, gw, gb = _fc.conv2d_backward(
        _act_numpy(grad_output, nhwc), _act_numpy(input, nhwc), weight.detach().numpy(),
        tuple(stride), _padding(padding), tuple(dilation), groups, layout=_layout(nhwc),
        input_grad=bool(output_mask[0]), weight_grad=bool(output_mask[1]),
        bias_grad=bool(output_mask[2]))
    none = torch.empty(0, dtype=input.dtype)
    return (none if gi is None else _act_tensor(gi, nhwc),
            none.clone() if gw is None else torch.from_numpy(gw),
            none.clone() if gb is None else torch.from_numpy(gb))


@_conv2d_backward.register_fake
def _conv2d_backward_fake(grad_output, input, weight, stride, padding, dilation, groups,
                          output_mask):
    def empty():
        return input.new_empty(0)
    return (_empty_act(input.shape, input, _is_nhwc(input)) if output_mask[0] else empty(),
            torch.empty_like(weight, memory_format=torch.contiguous_format)
            if output_mask[1] else empty(),
            weight.new_empty(weight.shape[0]) if output_mask[2] else empty())


def _conv2d_setup(ctx, inputs, output):
    input, weight, bias, stride, padding, dilation, groups = inputs
    ctx.save_for_backward(input, weight)
    ctx.args = (stride, padding, dilation, groups)
    ctx.has_bias = bias is not None


def _conv2d_grad(ctx, grad):
    input, weight = ctx.saved_tensors
    need = ctx.needs_input_grad
    mask = [need[0], need[1], ctx.has_bias and need[2]]
    gi, gw, gb = torch.ops.fastconv.conv2d_backward(grad, input, weight, *ctx.args, mask)
    return (gi if mask[0] else None, gw if mask[1] else None, gb if mask[2] else None,
            None, None, None, None)


_conv2d.register_autograd(_conv2d_grad, setup_context=_conv2d_setup)


# ----------------------------------------------------------------------------
# max_pool2d

@torch.library.custom_op("fastconv::max_pool2d", mutates_args=(), device_types="cpu")
def _max_pool2d(input: Tensor, kernel_size: Sequence[int], stride: Sequence[int],
                padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool,
                return_indices: bool) -> tuple[Tensor, Tensor]:
    """(output, indices); indices is an empty int64 tensor unless ``return_indices``."""
    nhwc = _is_nhwc(input)
    res = _fc.max_pool2d(_act_numpy(input, nhwc), tuple(kernel_size), tuple(stride),
                         _padding(padding), tuple(dilation), ceil_mode,
                         return_indices=return_indices, layout=_layout(nhwc))
    if return_indices:
        return _act_tensor(res[0], nhwc), _act_tensor(res[1], nhwc)
    return _act_tensor(res, nhwc), torch.empty(0, dtype=torch.int64)


@_max_pool2d.register_fake
def _max_pool2d_fake(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    oh, ow = _pool_out_hw(input, kernel_size, stride, padding, dilation, ceil_mode)
    shape = _out_shape(input, _spatial(input)[1], oh, ow)
    nhwc = _is_nhwc(input)
    indices = (_empty_act(shape, input, nhwc, torch.int64) if return_indices
               else input.new_empty(0, dtype=torch.int64))
    return _empty_act(shape, input, nhwc), indices


@torch.library.custom_op("fastconv::max_pool2d_backward", mutates_args=(), device_types="cpu")
def _max_pool2d_backward(grad_output: Tensor, input: Tensor, indices: Tensor,
                         kernel_size: Sequence[int], stride: Sequence[int],
                         padding: Sequence[int], dilation: Sequence[int],
                         ceil_mode: bool) -> Tensor:
    """Gradient w.r.t. the input; ``indices`` may be empty (then the maxima are recomputed)."""
    nhwc = _is_nhwc(input)
    idx = _act_numpy(indices, nhwc) if indices.numel() == grad_output.numel() else None
    gi = _fc.max_pool2d_backward(_act_numpy(grad_output, nhwc), _act_numpy(input, nhwc),
                                 tuple(kernel_size), tuple(stride), _padding(padding),
                                 tuple(dilation), ceil_mode, indices=idx, layout=_layout(nhwc))
    return _act_tensor(gi, nhwc)


@_max_pool2d_backward.register_fake
def _max_pool2d_backward_fake(grad_output, input, indices, kernel_size, stride, padding,
                              dilation, ceil_mode):
    return _empty_act(input.shape, input, _is_nhwc(input))


def _max_pool2d_setup(ctx, inputs, output):
    input, kernel_size, stride, padding, dilation, ceil_mode, _ = inputs
    ctx.save_for_backward(input, output[1])
    ctx.args = (kernel_size, stride, padding, dilation, ceil_mode)


def _max_pool2d_grad(ctx, grad, grad_indices):
    input, indices = ctx.saved_tensors
    gi = torch.ops.fastconv.max_pool2d_backward(grad, input, indices, *ctx.args)
    return gi, None, None, None, None, None, None


_max_pool2d.register_autograd(_max_pool2d_grad, setup_context=_max_pool2d_setup)


# ----------------------------------------------------------------------------
# avg_pool2d

@torch.library.custom_op("fastconv::avg_pool2d", mutates_args=(), device_types="cpu")
def _avg_pool2d(input: Tensor, kernel_size: Sequence[int], stride: Sequence[int],
                padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                divisor_override: Optional[int], dilation: Sequence[int]) -> Tensor:
    nhwc = _is_nhwc(input)
    y = _fc.avg_pool2d(_act_numpy(input, nhwc), tuple(kernel_size), tuple(stride),
                       _padding(padding), ceil_mode, count_include_pad, divisor_override,
                       dilation=tuple(dilation), layout=_layout(nhwc))
    return _act_tensor(y, nhwc)


@_avg_pool2d.register_fake
def _avg_pool2d_fake(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, dilation):
    oh, ow = _pool_out_hw(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _empty_act(_out_shape(input, _spatial(input)[1], oh, ow), input, _is_nhwc(input))


@torch.library.custom_op("fastconv::avg_pool2d_backward", mutates_args=(), device_types="cpu")
def _avg_pool2d_backward(grad_output: Tensor, input_shape: Sequence[int],
                         kernel_size: Sequence[int], stride: Sequence[int],
                         padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                         divisor_override: Optional[int], dilation: Sequence[int],
                         channels_last: bool) -> Tensor:
    """Gradient w.r.t. an input of logical NCHW ``input_shape`` (channels_last if asked)."""
    nhwc = channels_last and len(input_shape) == 4
    shape = tuple(input_shape)
    if nhwc:
        shape = (shape[0], shape[2], shape[3], shape[1])
    gi = _fc.avg_pool2d_backward(_act_numpy(grad_output, nhwc), shape, tuple(kernel_size),
                                 tuple(stride), _padding(padding), ceil_mode,
                                 count_include_pad, divisor_override, dilation=tuple(dilation),
                                 layout=_layout(nhwc))
    return _act_tensor(gi, nhwc)


@_avg_pool2d_backward.register_fake
def _avg_pool2d_backward_fake(grad_output, input_shape, kernel_size, stride, padding,
                              ceil_mode, count_include_pad, divisor_override, dilation,
                              channels_last):
    return _empty_act(tuple(input_shape), grad_output,
                      channels_last and len(input_shape) == 4)


def _avg_pool2d_setup(ctx, inputs, output):
    input, *args = inputs
    ctx.input_shape = tuple(input.shape)
    ctx.channels_last = _is_nhwc(input)
    ctx.args = args


def _avg_pool2d_grad(ctx, grad):
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dilation = \
        ctx.args
    gi = torch.ops.fastconv.avg_pool2d_backward(
        grad, ctx.input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
        divisor_override, dilation, ctx.channels_last)
    return gi, None, None, None, None, None, None, None


_avg_pool2d.register_autograd(_avg_pool2d_grad, setup_context=_avg_pool2d_setup)


# ----------------------------------------------------------------------------
# functional API, as torch.nn.functional

def supported(*tensors):
    """Whether fastconv computes for these tensors (CPU, one dtype, float32 or float64).

    The first tensor is the activation and must be 3-D or 4-D; ``None``
    entries (an absent bias) are ignored.

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> x = torch.ones(1, 3, 4, 4)
    >>> fct.supported(x), fct.supported(x.half()), fct.supported(x, x.double())
    (True, False, False)
    """
    tensors = [t for t in tensors if t is not None]
    return (all(isinstance(t, Tensor) and t.device.type == "cpu" for t in tensors)
            and tensors[0].dtype in _DTYPES
            and all(t.dtype == tensors[0].dtype for t in tensors)
            and tensors[0].dim() in (3, 4))


def _pad4(padding, input, kernel, stride, dilation):
    hw = tuple(input.shape[-2:])
    (t, b), (l, r) = _shapes.conv_padding(padding, hw, kernel, stride, dilation)
    return [t, b, l, r]


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.nn.functional.conv2d`` computed by fastconv (autograd and torch.compile aware).

    ``padding`` also takes fastconv's forms (``((top, bottom), (left, right))``,
    ``"same"`` with any stride, ``"same_lower"``). Tensors fastconv cannot take
    (see ``supported``) go to ``torch.nn.functional.conv2d``.

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    >>> torch.allclose(fct.conv2d(x, w, padding=1), torch.nn.functional.conv2d(x, w, padding=1),
    ...                atol=1e-4)
    True
    """
    if not supported(input, weight, bias):
        return F.conv2d(input, weight, bias, stride, padding, dilation, groups)
    stride = list(_shapes.positive_pair(stride, "stride"))
    dilation = list(_shapes.positive_pair(dilation, "dilation"))
    pad = _pad4(padding, input, tuple(weight.shape[-2:]), stride, dilation)
    return torch.ops.fastconv.conv2d(input, weight, bias, stride, pad, dilation, int(groups))


def _pool_args(input, kernel_size, stride, padding, dilation):
    kernel = list(_shapes.positive_pair(kernel_size, "kernel_size"))
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = list(_shapes.positive_pair(stride, "stride"))
    dilation = list(_shapes.positive_pair(dilation, "dilation"))
    return kernel, stride, _pad4(padding, input, kernel, stride, dilation), dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool2d`` computed by fastconv (autograd aware).

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> x = torch.randn(2, 3, 8, 8)
    >>> y, i = fct.max_pool2d(x, 2, return_indices=True)
    >>> torch.equal(i, torch.nn.functional.max_pool2d(x, 2, return_indices=True)[1])
    True
    """
    if not supported(input):
        return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode,
                            return_indices=return_indices)
    kernel, stride, pad, dilation = _pool_args(input, kernel_size, stride, padding, dilation)
    # indices are kept for the backward pass when one will follow
    want = bool(return_indices) or (torch.is_grad_enabled() and input.requires_grad)
    y, idx = torch.ops.fastconv.max_pool2d(input, kernel, stride, pad, dilation,
                                           bool(ceil_mode), want)
    return (y, idx) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, dilation=1):
    """``torch.nn.functional.avg_pool2d`` computed by fastconv (autograd aware).

    ``dilation`` (keyword-only) is an extension, as ONNX AveragePool.

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> x = torch.randn(2, 3, 8, 8)
    >>> torch.allclose(fct.avg_pool2d(x, 3, 2, 1), torch.nn.functional.avg_pool2d(x, 3, 2, 1))
    True
    """
    if not supported(input):
        if _shapes.pair(dilation, "dilation") != (1, 1):
            raise ValueError("avg_pool2d: dilation needs fastconv (CPU float32/float64 input)")
        return F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override)
    kernel, stride, pad, dilation = _pool_args(input, kernel_size, stride, padding, dilation)
    return torch.ops.fastconv.avg_pool2d(input, kernel, stride, pad, bool(ceil_mode),
                                         bool(count_include_pad), divisor_override, dilation)


# ----------------------------------------------------------------------------
# modules

class Conv2d(torch.nn.Conv2d):
    """``torch.nn.Conv2d`` computed by fastconv: same arguments, parameters and state_dict.

    ``padding_mode`` other than "zeros" is computed by torch.

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> conv = fct.Conv2d(3, 8, 3, padding=1)
    >>> conv(torch.randn(1, 3, 5, 5)).shape
    torch.Size([1, 8, 5, 5])
    >>> list(conv.state_dict())
    ['weight', 'bias']
    """

    def forward(self, input):
        if self.padding_mode != "zeros":
            return super().forward(input)
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class MaxPool2d(torch.nn.MaxPool2d):
    """``torch.nn.MaxPool2d`` computed by fastconv.

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> fct.MaxPool2d(2)(torch.randn(1, 3, 6, 6)).shape
    torch.Size([1, 3, 3, 3])
    """

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(torch.nn.AvgPool2d):
    """``torch.nn.AvgPool2d`` computed by fastconv.

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> fct.AvgPool2d(3, 2, 1)(torch.randn(1, 3, 6, 6)).shape
    torch.Size([1, 3, 3, 3])
    """

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


_SWAPS = {torch.nn.Conv2d: Conv2d, torch.nn.MaxPool2d: MaxPool2d,
          torch.nn.AvgPool2d: AvgPool2d}


def _why_not(m):
    """Why ``m`` cannot be served by fastconv (None if it can)."""
    if type(m) not in _SWAPS:
        return f"{type(m).__name__} subclasses a torch layer and may have its own forward"
    if isinstance(m, torch.nn.Conv2d):
        if m.padding_mode != "zeros":
            return f"padding_mode={m.padding_mode!r} (fastconv pads with zeros only)"
        if m.weight.dtype not in _DTYPES:
            return f"weight dtype {m.weight.dtype} (fastconv computes float32 and float64)"
        if m.weight.device.type != "cpu":
            return f"weight on {m.weight.device} (fastconv runs on the CPU)"
    return None


def _swap(m):
    new = _SWAPS[type(m)].__new__(_SWAPS[type(m)])
    # share the parameters, buffers, hooks and flags: nothing is copied or re-initialised,
    # so optimisers already holding the parameters keep working
    new.__dict__.update(m.__dict__)
    return new


def convert(model):
    """Swap ``nn.Conv2d``, ``nn.MaxPool2d`` and ``nn.AvgPool2d`` for fastconv's, in place.

    The new modules share the old ones' parameters (no copy), so outputs,
    gradients, ``state_dict`` keys and optimiser state are unchanged. Layers
    fastconv cannot serve are left alone with a ``UserWarning`` saying why:
    ``padding_mode`` other than "zeros", weights that are not float32/float64
    or not on the CPU, and subclasses of these layers (which may have their
    own ``forward``). Layers already converted are left as they are.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    torch.nn.Module
        ``model`` itself, converted in place (a new module only when ``model``
        itself is one of the swapped layers).

    Examples
    --------
    >>> import torch, fastconv.torch as fct
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.AvgPool2d(2))
    >>> fct.convert(net)
    Sequential(
      (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
      (1): AvgPool2d(kernel_size=2, stride=2, padding=0)
    )
    >>> isinstance(net[0], fct.Conv2d) and isinstance(net[0], torch.nn.Conv2d)
    True
    """
    ours = (Conv2d, MaxPool2d, AvgPool2d)
    layers = tuple(_SWAPS)

    def visit(m, name):
        if isinstance(m, ours):
            return m
        if isinstance(m, layers):
            reason = _why_not(m)
            if reason is None:
                return _swap(m)
            warnings.warn(f"fastconv.torch.convert: left {name or 'model'} ({m}) to torch: "
                          f"{reason}", UserWarning, stacklevel=3)
            return m
        for child_name, child in list(m.named_children()):
            new = visit(child, f"{name}.{child_name}" if name else child_name)
            if new is not child:
                setattr(m, child_name, new)
        return m

    return visit(model, "")
