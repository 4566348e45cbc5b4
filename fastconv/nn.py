"""Small NumPy neural-network layers on top of fastconv's kernels (no torch needed).

Enough to build and train a LeNet-style network: ``Conv2d``, ``MaxPool2d``,
``AvgPool2d``, ``ReLU``, ``Flatten``, ``Linear``, ``Sequential``, the
``CrossEntropyLoss`` and the ``SGD`` / ``Adam`` optimisers. Constructor
arguments are named as in ``torch.nn`` and parameters are initialised as torch
does (Kaiming-uniform), from a seedable NumPy generator.

Every layer has ``forward(x)`` (also ``layer(x)``), which remembers what its
backward pass needs, and ``backward(grad)``, which returns the gradient with
respect to the layer's input and *adds* the gradients of its parameters to
``param.grad`` (as torch accumulates ``.grad``; call ``zero_grad()`` between
steps). The convolution and pooling layers run on fastconv's kernels and take a
``layout`` ("NCHW" or "NHWC") for their activations; weights are always OIHW.
``Linear``, ``ReLU`` and the loss are a few NumPy operations.

Examples
--------
>>> import numpy as np
>>> from fastconv import nn
>>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.ReLU(),
...                     nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10, rng=0))
>>> x = np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32)
>>> y = np.arange(8) % 10
>>> loss_fn, opt = nn.CrossEntropyLoss(), nn.SGD(net.parameters(), lr=0.1, momentum=0.9)
>>> loss = loss_fn(net(x), y)
>>> opt.zero_grad()
>>> _ = net.backward(loss_fn.backward())
>>> opt.step()
>>> net[0].weight.grad.shape
(4, 1, 3, 3)
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

import fastconv as _fc

from ._arrays import check_layout
from ._shapes import pair

__all__ = [
    "Parameter", "Module", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Flatten", "Linear",
    "Sequential", "CrossEntropyLoss", "SGD", "Adam",
]


def _rng(rng):
    """A NumPy Generator from None, an int seed or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _float_dtype(dtype):
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _kaiming_uniform(rng, shape, fan_in, dtype):
    # torch's default: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    # its bias uses the same bound.
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Parameter:
    """A trainable array: ``data`` and its accumulated gradient ``grad`` (None until set).

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.zeros(3, np.float32))
    >>> p.shape, p.grad is None
    ((3,), True)
    """

    __slots__ = ("data", "grad")

    def __init__(self, data):
        self.data = np.asarray(data)
        self.grad = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def accumulate(self, grad):
        """Add ``grad`` to ``self.grad`` (or set it if there is none)."""
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype, copy=True)
        else:
            self.grad += grad

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: holds parameters and child modules, prints like ``torch.nn.Module``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        self.training = True

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        mods = self.__dict__.get("_modules")
        if params is None:
            raise AttributeError("call Module.__init__() before assigning attributes")
        params.pop(name, None)
        mods.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            mods[name] = value
        object.__setattr__(self, name, value)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def named_parameters(self, prefix=""):
        """Yield ``(name, Parameter)`` pairs, named as torch's ``state_dict`` keys."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for mname, m in self._modules.items():
            yield from m.named_parameters(prefix + mname + ".")

    def parameters(self):
        """List of this module's parameters and those of its children."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self):
        """``{name: array}`` of the parameters (copies), with torch's key names."""
        return OrderedDict((k, p.data.copy()) for k, p in self.named_parameters())

    def load_state_dict(self, state):
        """Copy arrays (NumPy, or anything ``np.asarray`` takes) into the parameters."""
        own = dict(self.named_parameters())
        missing = set(own) - set(state)
        unexpected = set(state) - set(own)
        if missing or unexpected:
            raise KeyError(f"state_dict mismatch: missing {sorted(missing)}, "
                           f"unexpected {sorted(unexpected)}")
        for k, p in own.items():
            value = np.asarray(state[k])
            if value.shape != p.shape:
                raise ValueError(f"{k}: shape {value.shape} does not match {p.shape}")
            p.data[...] = value

    def train(self, mode=True):
        self.training = bool(mode)
        for m in self._modules.values():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Conv2d(Module):
    """2-D convolution layer on ``fastconv.conv2d``, as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int), default 1
    padding : int, (int, int), ((top, bottom), (left, right)), "valid", "same" or "same_lower"
    groups : int, default 1
    bias : bool, default True
    padding_mode : "zeros"
        The only mode fastconv computes; others raise ValueError.
    layout : {"NCHW", "NHWC"}
        Layout of the activations (input, output and their gradients).
    dtype : float32 (default) or float64
    rng : None, int or numpy.random.Generator
        Source of the Kaiming-uniform initialisation (torch's default init).

    Attributes
    ----------
    weight : Parameter ``(out_channels, in_channels // groups, kH, kW)``
    bias : Parameter ``(out_channels,)`` or None
    input_grad : bool
        Whether ``backward`` computes the input gradient (set False on a first
        layer to skip that work; ``backward`` then returns None).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv.nn import Conv2d
    >>> conv = Conv2d(3, 8, 3, padding=1, rng=0)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> y = conv(np.zeros((2, 3, 5, 5), np.float32))
    >>> y.shape
    (2, 8, 5, 5)
    >>> conv.backward(np.ones_like(y)).shape, conv.bias.grad[:2]
    ((2, 3, 5, 5), array([50., 50.], dtype=float32))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, layout="NCHW", dtype=None,
                 rng=None):
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode: only 'zeros' is supported, got {padding_mode!r}")
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if in_channels % groups:
            raise ValueError(f"groups={groups} does not divide in_channels={in_channels}")
        if out_channels % groups:
            raise ValueError(f"groups={groups} does not divide out_channels={out_channels}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), \
            int(groups)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        if min(self.kernel_size + self.stride + self.dilation) < 1:
            raise ValueError("kernel_size, stride and dilation must be >= 1")
        if isinstance(padding, str) or (isinstance(padding, (tuple, list)) and any(
                isinstance(p, (tuple, list)) for p in padding)):
            self.padding = padding if isinstance(padding, str) else tuple(map(tuple, padding))
        else:
            self.padding = pair(padding, "padding")
        self.padding_mode = padding_mode
        self.layout = check_layout(layout)
        self.input_grad = True
        dtype = _float_dtype(dtype)
        gen = _rng(rng)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = Parameter(_kaiming_uniform(
            gen, (self.out_channels, self.in_channels // self.groups) + self.kernel_size,
            fan_in, dtype))
        self.bias = Parameter(_kaiming_uniform(gen, (self.out_channels,), fan_in, dtype)) \
            if bias else None
        self._input = None

    def _args(self):
        return (self.stride, self.padding, self.dilation, self.groups)

    def forward(self, x):
        """Convolve ``x`` (4-D, or 3-D unbatched, in ``self.layout``)."""
        self._input = x
        bias = None if self.bias is None else self.bias.data
        return _fc.conv2d(x, self.weight.data, bias, *self._args(), layout=self.layout)

    def backward(self, grad):
        """Accumulate weight/bias gradients; return the input gradient (None if disabled)."""
        if self._input is None:
            raise RuntimeError("Conv2d.backward called before forward")
        gx, gw, gb = _fc.conv2d_backward(
            grad, self._input, self.weight.data, *self._args(), layout=self.layout,
            input_grad=self.input_grad, weight_grad=True, bias_grad=self.bias is not None)
        self.weight.accumulate(gw)
        if self.bias is not None:
            self.bias.accumulate(gb)
        return gx

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.layout != "NCHW":
            s += f", layout={self.layout!r}"
        return s


class MaxPool2d(Module):
    """2-D max pooling layer on ``fastconv.max_pool2d``, as ``torch.nn.MaxPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (default: ``kernel_size``)
    padding : int, (int, int) or ((top, bottom), (left, right)); pads with -inf
    dilation : int or (int, int)
    return_indices : bool
        ``forward`` returns ``(output, indices)`` (int64 flat ``h * W + w``).
    ceil_mode : bool
    layout : {"NCHW", "NHWC"}

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv.nn import MaxPool2d
    >>> pool = MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> pool(x)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    >>> pool.backward(np.ones((1, 1, 2, 2), np.float32))[0, 0, :2]
    array([[0., 0., 0., 0.],
           [0., 1., 0., 1.]], dtype=float32)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False, *, layout="NCHW"):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        self.layout = check_layout(layout)
        self._input = self._indices = None

    def _args(self):
        return (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def forward(self, x):
        """Max-pool ``x``; also returns the indices if ``return_indices``."""
        y, idx = _fc.max_pool2d(x, *self._args(), return_indices=True, layout=self.layout)
        self._input, self._indices = x, idx
        return (y, idx) if self.return_indices else y

    def backward(self, grad):
        """Route ``grad`` to the maxima selected in ``forward``."""
        if self._input is None:
            raise RuntimeError("MaxPool2d.backward called before forward")
        return _fc.max_pool2d_backward(grad, self._input, *self._args(), indices=self._indices,
                                       layout=self.layout)

    def extra_repr(self):
        s = (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
             f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")
        if self.layout != "NCHW":
            s += f", layout={self.layout!r}"
        return s


class AvgPool2d(Module):
    """2-D average pooling layer on ``fastconv.avg_pool2d``, as ``torch.nn.AvgPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (default: ``kernel_size``)
    padding : int, (int, int) or ((top, bottom), (left, right))
    ceil_mode, count_include_pad : bool
    divisor_override : int or None
    dilation : int or (int, int), keyword-only (ONNX AveragePool's dilations)
    layout : {"NCHW", "NHWC"}

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv.nn import AvgPool2d
    >>> pool = AvgPool2d(2)
    >>> pool
    AvgPool2d(kernel_size=2, stride=2, padding=0)
    >>> pool(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> pool.backward(np.ones((1, 1, 2, 2), np.float32))[0, 0, 0]
    array([0.25, 0.25, 0.25, 0.25], dtype=float32)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None, *, dilation=1, layout="NCHW"):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        self.dilation = dilation
        self.layout = check_layout(layout)
        self._input_shape = None

    def _args(self):
        return (self.kernel_size, self.stride, self.padding, self.ceil_mode,
                self.count_include_pad, self.divisor_override)

    def forward(self, x):
        """Average-pool ``x``."""
        y = _fc.avg_pool2d(x, *self._args(), dilation=self.dilation, layout=self.layout)
        self._input_shape = np.shape(x)
        return y

    def backward(self, grad):
        """Spread ``grad`` evenly over each window's taps."""
        if self._input_shape is None:
            raise RuntimeError("AvgPool2d.backward called before forward")
        return _fc.avg_pool2d_backward(grad, self._input_shape, *self._args(),
                                       dilation=self.dilation, layout=self.layout)

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.ceil_mode:
            s += ", ceil_mode=True"
        if not self.count_include_pad:
            s += ", count_include_pad=False"
        if self.divisor_override is not None:
            s += f", divisor_override={self.divisor_override}"
        if self.dilation not in (1, (1, 1)):
            s += f", dilation={self.dilation}"
        if self.layout != "NCHW":
            s += f", layout={self.layout!r}"
        return s


class ReLU(Module):
    """``max(x, 0)``; its backward passes the gradient where the input was positive.

    Examples
    --------
    >>> import numpy as np
    >>> relu = ReLU()
    >>> relu(np.array([-1.0, 2.0])), relu.backward(np.array([5.0, 5.0]))
    (array([0., 2.]), array([0., 5.]))
    """

    def __init__(self):
        super().__init__()
        self._mask = None

    def forward(self, x):
        x = np.asarray(x)
        self._mask = x > 0
        return np.where(self._mask, x, np.zeros((), x.dtype))

    def backward(self, grad):
        return np.where(self._mask, grad, np.zeros((), np.asarray(grad).dtype))


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` into one, as ``torch.nn.Flatten``.

    With ``layout="NHWC"`` layers before it, the features come out in (H, W, C)
    order, which a following ``Linear`` learns like any other order.

    Examples
    --------
    >>> import numpy as np
    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim
        self._shape = None

    def forward(self, x):
        x = np.asarray(x)
        self._shape = x.shape
        start = self.start_dim % x.ndim
        end = self.end_dim % x.ndim
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def backward(self, grad):
        return np.asarray(grad).reshape(self._shape)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Linear(Module):
    """Fully connected layer ``y = x @ W.T + b``, as ``torch.nn.Linear`` (NumPy matmul).

    Examples
    --------
    >>> import numpy as np
    >>> fc = Linear(4, 3, rng=0)
    >>> fc
    Linear(in_features=4, out_features=3, bias=True)
    >>> fc(np.ones((2, 4), np.float32)).shape
    (2, 3)
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = _float_dtype(dtype)
        gen = _rng(rng)
        self.weight = Parameter(_kaiming_uniform(gen, (self.out_features, self.in_features),
                                                 self.in_features, dtype))
        self.bias = Parameter(_kaiming_uniform(gen, (self.out_features,), self.in_features,
                                               dtype)) if bias else None
        self._input = None

    def forward(self, x):
        x = np.asarray(x)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"input has {x.shape[-1]} features, expected {self.in_features}")
        self._input = x
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad):
        x = self._input.reshape(-1, self.in_features)
        g = np.asarray(grad).reshape(-1, self.out_features)
        self.weight.accumulate(g.T @ x)
        if self.bias is not None:
            self.bias.accumulate(g.sum(axis=0))
        return (g @ self.weight.data).reshape(self._input.shape)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Sequential(Module):
    """Chain of modules: ``forward`` in order, ``backward`` in reverse.

    Examples
    --------
    >>> net = Sequential(ReLU(), Flatten())
    >>> net
    Sequential(
      (0): ReLU()
      (1): Flatten(start_dim=1, end_dim=-1)
    )
    >>> len(net), net[1]
    (2, Flatten(start_dim=1, end_dim=-1))
    """

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"modules[{i}] is not a fastconv.nn.Module: {m!r}")
            setattr(self, str(i), m)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def backward(self, grad):
        for m in reversed(self._modules.values()):
            grad = m.backward(grad)
            if grad is None:  # a first layer that skips its input gradient
                break
        return grad


class CrossEntropyLoss:
    """Softmax cross-entropy of logits ``(N, classes)`` against integer targets, mean over N.

    ``loss(logits, target)`` returns the loss (a float); ``backward()`` then
    returns its gradient with respect to the logits.

    Examples
    --------
    >>> import numpy as np
    >>> loss_fn = CrossEntropyLoss()
    >>> round(loss_fn(np.zeros((2, 4)), np.array([0, 3])), 4)  # log(4)
    1.3863
    >>> loss_fn.backward()[0]
    array([-0.375,  0.125,  0.125,  0.125])
    """

    def __init__(self):
        self._probs = self._target = None

    def __call__(self, logits, target):
        return self.forward(logits, target)

    def forward(self, logits, target):
        z = np.asarray(logits)
        t = np.asarray(target)
        if z.ndim != 2:
            raise ValueError(f"logits must be 2-D (N, classes), got shape {z.shape}")
        if t.shape != (z.shape[0],) or t.dtype.kind not in "iu":
            raise ValueError(f"target must be {z.shape[0]} integer class indices, got "
                             f"{t.dtype} array of shape {t.shape}")
        if t.size and (t.min() < 0 or t.max() >= z.shape[1]):
            raise ValueError(f"target must lie in [0, {z.shape[1]})")
        shifted = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probs = shifted - log_norm
        self._probs, self._target = np.exp(log_probs), t
        return float(-log_probs[np.arange(len(t)), t].mean())

    def backward(self):
        grad = self._probs.copy()
        grad[np.arange(len(self._target)), self._target] -= 1
        return grad / max(len(self._target), 1)

    def __repr__(self):
        return "CrossEntropyLoss()"


class _Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty")
        if not all(isinstance(p, Parameter) for p in self.params):
            raise TypeError("params must be fastconv.nn.Parameter objects")
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        self.lr = lr
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    ``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` on the first
    step), ``g = g + momentum * buf`` if ``nesterov`` else ``buf``, then
    ``p -= lr * g``; ``g`` includes ``weight_decay * p``.

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.ones(2)); p.grad = np.array([1.0, -1.0])
    >>> SGD([p], lr=0.5).step(); p.data
    array([0.5, 1.5])
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening == 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov

    def step(self):
        for p, st in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(g, copy=True)
                else:
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            p.data -= (self.lr * g).astype(p.data.dtype, copy=False)


class Adam(_Optimizer):
    """Adam, as ``torch.optim.Adam`` (L2 ``weight_decay`` added to the gradient).

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.zeros(2)); p.grad = np.array([3.0, -0.5])
    >>> Adam([p], lr=0.1).step(); p.data.round(6)
    array([-0.1,  0.1])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def step(self):
        b1, b2 = self.betas
        for p, st in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if not st:
                st["step"] = 0
                st["exp_avg"] = np.zeros_like(p.data)
                st["exp_avg_sq"] = np.zeros_like(p.data)
            st["step"] += 1
            m, v, t = st["exp_avg"], st["exp_avg_sq"], st["step"]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            step_size = self.lr / (1 - b1 ** t)
            denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + self.eps
            p.data -= (step_size * m / denom).astype(p.data.dtype, copy=False)
