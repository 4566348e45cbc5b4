import numpy as np
import pytest

import fastconv


@pytest.fixture(params=fastconv.supported_isas())
def isa(request):
    """Run the test once per kernel variant this CPU supports."""
    with fastconv.use_isa(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(params=["NCHW", "NHWC"])
def layout(request):
    return request.param


def to_layout(x_nchw, layout):
    """A logical NCHW array stored in ``layout`` (contiguous)."""
    return np.ascontiguousarray(x_nchw if layout == "NCHW" else x_nchw.transpose(0, 2, 3, 1))


def from_layout(x, layout):
    """Back to logical NCHW."""
    return x if layout == "NCHW" else x.transpose(0, 3, 1, 2)


def python_subprocess(args, env=None, **kwargs):
    """Run ``python *args`` importing the same fastconv as this test process.

    The working directory is a temporary one, so a source checkout in the
    current directory (without built extensions) never shadows the installed
    package, and PYTHONPATH points at the package this process imported.
    """
    import os
    import subprocess
    import sys
    import tempfile
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastconv.__file__)))
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    kwargs.setdefault("cwd", tempfile.gettempdir())
    return subprocess.run([sys.executable, *args], env=env, **kwargs)
