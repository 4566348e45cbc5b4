"""Threads, ISA selection, show_config and the kernel registry."""
import io
import os

import pytest

from conftest import python_subprocess
import fastconv
from fastconv import _cpu


def test_threads_roundtrip():
    fastconv.set_num_threads(1)
    try:
        assert fastconv.get_num_threads() == 1
    finally:
        fastconv.set_num_threads(None)
    assert fastconv.get_num_threads() >= 1
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="n must be"):
            fastconv.set_num_threads(bad)


def test_isa_selection():
    supported = fastconv.supported_isas()
    assert supported[0] == "scalar"
    for name in supported:
        with fastconv.use_isa(name):
            assert fastconv.get_isa() == name
    with pytest.raises(ValueError, match="name"):
        fastconv.set_isa("sse9")


def _run(code, **env):
    full = dict(os.environ, **env)
    return python_subprocess(["-c", code], env=full, capture_output=True, text=True,
                             timeout=120)


def test_env_variables_are_honoured():
    r = _run("import fastconv; print(fastconv.get_num_threads(), fastconv.get_isa())",
             FASTCONV_NUM_THREADS="3", FASTCONV_ISA="scalar")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3", "scalar"]
    r = _run("import fastconv; print(fastconv.get_num_threads())", OMP_NUM_THREADS="1")
    assert r.stdout.split() == ["1"]
    r = _run("import fastconv; fastconv.get_isa()", FASTCONV_ISA="bogus")
    assert r.returncode != 0 and "FASTCONV_ISA" in r.stderr


def test_show_config_fields():
    buf = io.StringIO()
    fastconv.show_config(file=buf)
    text = buf.getvalue()
    for field in ("fastconv", "cpu features", "isa", "compiler", "threads", "kernels"):
        assert field in text


def test_registry_has_a_scalar_kernel_for_every_op():
    kernels = _cpu.kernels()
    ops = {(k["op"], k["dtype"]) for k in kernels}
    assert ("igemm", "f32") in ops and ("igemm", "f64") in ops
    for op in ops:
        assert any(k["isa"] == "scalar" for k in kernels if (k["op"], k["dtype"]) == op), op
    names = [k["name"] for k in kernels]
    assert len(names) == len(set(names))
    for k in kernels:  # naming convention: fc_<dtype>_<op>_<tile>__<isa>
        assert k["name"].startswith(f"fc_{k['dtype']}_") and k["name"].endswith("__" + k["isa"])


def test_probes_are_positive():
    assert _cpu.fma_peak_gflops(0, 1, 0.01) > 0
    assert _cpu.copy_bandwidth_gbs(1 << 20, 1, 2) > 0
