"""fastconv for JAX: conv2d, max_pool2d and avg_pool2d under jit, grad and vmap.

Each function runs fastconv's CPU kernels through ``jax.pure_callback`` and
has a ``jax.custom_vjp`` whose backward pass calls fastconv's gradient
kernels, so it composes with ``jax.jit``, ``jax.grad`` and ``jax.vmap``
(``vmap`` maps the callback sequentially). Importing this submodule imports
jax; ``import fastconv`` never does.

Arguments are those of the NumPy API (``fastconv.conv2d`` etc.) and must be
static (Python values); the arrays are traced. Inputs live on the host: on an
accelerator backend every call copies to and from the CPU. Dtypes follow
JAX's (float32 unless ``jax_enable_x64`` is on). Higher-order derivatives
(gradients of gradients) are not supported.

Examples
--------
>>> import jax, jax.numpy as jnp
>>> import fastconv.jax as fcj
>>> x, w = jnp.ones((1, 1, 4, 4)), jnp.ones((2, 1, 3, 3))
>>> f = jax.jit(lambda x, w: fcj.conv2d(x, w, padding=1).sum())
>>> float(f(x, w))
200.0
>>> jax.grad(f, argnums=1)(x, w)[0, 0]
Array([[ 9., 12.,  9.],
       [12., 16., 12.],
       [ 9., 12.,  9.]], dtype=float32)
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

import fastconv as _fc

from . import _shapes
from ._arrays import check_layout

__all__ = ["conv2d", "max_pool2d", "avg_pool2d"]

_VMAP = "sequential"


def _callback(fn, result_shape, *args):
    return jax.pure_callback(fn, result_shape, *args, vmap_method=_VMAP)


def _batched_shape(shape, name):
    if len(shape) == 4:
        return tuple(shape), True
    if len(shape) == 3:
        return (1,) + tuple(shape), False
    raise ValueError(f"{name} must be 3-D (unbatched) or 4-D (batched), got shape {shape}")


def _unbatched(shape, batched):
    return tuple(shape) if batched else tuple(shape)[1:]


def _np(a):
    return None if a is None else np.asarray(a)


# ----------------------------------------------------------------------------
# conv2d

@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _conv(x, w, b, p):
    return _conv_fwd(x, w, b, p)[0]


def _conv_fwd(x, w, b, p):
    args, layout, out_shape = p

    def run(x, w, b):
        return _fc.conv2d(_np(x), _np(w), _np(b), *args, layout=layout)

    y = _callback(run, jax.ShapeDtypeStruct(out_shape, x.dtype), x, w, b)
    return y, (x, w, b is not None)


def _conv_bwd(p, res, g):
    args, layout, _ = p
    x, w, has_bias = res

    def run(g, x, w):
        gx, gw, gb = _fc.conv2d_backward(_np(g), _np(x), _np(w), *args, layout=layout,
                                         bias_grad=has_bias)
        return (gx, gw, gb) if has_bias else (gx, gw)

    shapes = [jax.ShapeDtypeStruct(x.shape, x.dtype), jax.ShapeDtypeStruct(w.shape, w.dtype)]
    if has_bias:
        shapes.append(jax.ShapeDtypeStruct((w.shape[0],), w.dtype))
    grads = _callback(run, tuple(shapes), g, x, w)
    return (grads[0], grads[1], grads[2] if has_bias else None)


_conv.defvjp(_conv_fwd, _conv_bwd)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           layout="NCHW"):
    """``fastconv.conv2d`` for JAX arrays, differentiable and jittable.

    Parameters
    ----------
    input : jax.Array ``(N, C_in, H, W)`` (``"NCHW"``) or ``(N, H, W, C_in)`` (``"NHWC"``)
    weight : jax.Array ``(C_out, C_in // groups, kH, kW)``
    bias : jax.Array ``(C_out,)`` or None
    stride, padding, dilation, groups, layout : static, as ``fastconv.conv2d``

    Returns
    -------
    jax.Array

    Examples
    --------
    >>> import jax.numpy as jnp, fastconv.jax as fcj
    >>> fcj.conv2d(jnp.ones((2, 3, 8, 8)), jnp.ones((4, 3, 3, 3)), stride=2).shape
    (2, 4, 3, 3)
    """
    layout = check_layout(layout)
    x, w = jnp.asarray(input), jnp.asarray(weight)
    b = None if bias is None else jnp.asarray(bias)
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        raise TypeError(f"input, weight and bias must share a dtype, got {x.dtype}, "
                        f"{w.dtype}, {None if b is None else b.dtype}")
    shape4, batched = _batched_shape(x.shape, "input")
    g = _shapes.conv2d_geometry(shape4, w.shape, stride, padding, dilation, groups, layout)
    if b is not None and b.shape != (g.K,):
        raise ValueError(f"bias must have shape ({g.K},), got {b.shape}")
    args = ((g.SH, g.SW), ((g.PT, g.PB), (g.PL, g.PR)), (g.DH, g.DW), g.G)
    return _conv(x, w, b, (args, layout, _unbatched(g.output_shape, batched)))


# ----------------------------------------------------------------------------
# pooling

def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, layout):
    shape4, batched = _batched_shape(x.shape, "input")
    g = _shapes.pool2d_geometry(shape4, kernel_size, stride, padding, dilation, ceil_mode,
                                layout)
    args = ((g.KH, g.KW), (g.SH, g.SW), ((g.PT, g.PB), (g.PL, g.PR)))
    return g, args, _unbatched(g.output_shape, batched)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _max_pool(x, p):
    return _max_pool_fwd(x, p)[0]


def _max_pool_fwd(x, p):
    args, dilation, ceil_mode, layout, out_shape, index_dtype = p

    def run(x):
        y, idx = _fc.max_pool2d(_np(x), *args, dilation, ceil_mode, return_indices=True,
                                layout=layout)
        return y, idx.astype(index_dtype)

    y, idx = _callback(run, (jax.ShapeDtypeStruct(out_shape, x.dtype),
                             jax.ShapeDtypeStruct(out_shape, index_dtype)), x)
    return y, (x, idx)


def _max_pool_bwd(p, res, g):
    args, dilation, ceil_mode, layout, _, _ = p
    x, idx = res

    def run(g, x, idx):
        return _fc.max_pool2d_backward(_np(g), _np(x), *args, dilation, ceil_mode,
                                       indices=_np(idx).astype(np.int64), layout=layout)

    return (_callback(run, jax.ShapeDtypeStruct(x.shape, x.dtype), g, x, idx),)


_max_pool.defvjp(_max_pool_fwd, _max_pool_bwd)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, *,
               layout="NCHW"):
    """``fastconv.max_pool2d`` for JAX arrays (no ``return_indices``), differentiable.

    Examples
    --------
    >>> import jax.numpy as jnp, fastconv.jax as fcj
    >>> fcj.max_pool2d(jnp.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
    Array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    layout = check_layout(layout)
    x = jnp.asarray(input)
    g, args, out_shape = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode,
                                        layout)
    index_dtype = np.dtype(np.int64 if jax.config.jax_enable_x64 else np.int32)
    if g.H * g.W > np.iinfo(index_dtype).max:
        raise ValueError(f"input plane {g.H}x{g.W} is too large for {index_dtype} indices; "
                         f"enable jax_enable_x64")
    return _max_pool(x, (args, (g.DH, g.DW), bool(ceil_mode), layout, out_shape, index_dtype))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _avg_pool(x, p):
    return _avg_pool_fwd(x, p)[0]


def _avg_pool_fwd(x, p):
    args, options, layout, out_shape, _ = p

    def run(x):
        return _fc.avg_pool2d(_np(x), *args, *options[:3], dilation=options[3], layout=layout)

    return _callback(run, jax.ShapeDtypeStruct(out_shape, x.dtype), x), ()


def _avg_pool_bwd(p, res, g):
    args, options, layout, _, in_shape = p

    def run(g):
        return _fc.avg_pool2d_backward(_np(g), in_shape, *args, *options[:3],
                                       dilation=options[3], layout=layout)

    return (_callback(run, jax.ShapeDtypeStruct(in_shape, g.dtype), g),)


_avg_pool.defvjp(_avg_pool_fwd, _avg_pool_bwd)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, dilation=1, layout="NCHW"):
    """``fastconv.avg_pool2d`` for JAX arrays, differentiable and jittable.

    Examples
    --------
    >>> import jax.numpy as jnp, fastconv.jax as fcj
    >>> fcj.avg_pool2d(jnp.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
    Array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    layout = check_layout(layout)
    x = jnp.asarray(input)
    g, args, out_shape = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode,
                                        layout)
    options = (bool(ceil_mode), bool(count_include_pad), divisor_override, (g.DH, g.DW))
    return _avg_pool(x, (args, options, layout, out_shape, tuple(x.shape)))
