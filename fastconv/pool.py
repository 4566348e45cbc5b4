"""Pooling (being written: placeholder so the package imports)."""


def _todo(*args, **kwargs):
    raise NotImplementedError("pooling is not implemented yet")


max_pool2d = avg_pool2d = global_avg_pool2d = global_max_pool2d = _todo
max_pool2d_backward = avg_pool2d_backward = _todo
