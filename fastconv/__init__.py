"""fastconv: fast CPU conv2d and pooling, forward and backward, for NumPy arrays.

The kernels are C/OpenMP with runtime SIMD dispatch (AVX-512, AVX2, portable
C); the Python layer validates arguments and plans the call. See
``fastconv.reference`` for the plain NumPy oracle every kernel is tested against.
"""
__version__ = "0.1.0"

from ._config import (get_isa, get_num_threads, set_isa, set_num_threads, show_config,
                      supported_isas, use_isa)
from .conv import conv2d
from .conv_grad import conv2d_backward, conv_transpose2d
from .pool import (avg_pool2d, avg_pool2d_backward, global_avg_pool2d, global_max_pool2d,
                   max_pool2d, max_pool2d_backward)

__all__ = [
    "conv2d", "conv2d_backward", "conv_transpose2d",
    "max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d",
    "max_pool2d_backward", "avg_pool2d_backward",
    "set_num_threads", "get_num_threads", "show_config",
    "set_isa", "get_isa", "use_isa", "supported_isas",
]
