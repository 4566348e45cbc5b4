"""Tests of the benchmark suite itself: layer tables, timing, peers, report, CLI."""
import json
import sys
from pathlib import Path

from conftest import python_subprocess
import numpy as np
import pytest

from fastconv import reference
from fastconv._shapes import conv2d_geometry, pool2d_geometry
from fastconv.bench import cases, ops, report, timing, torch_peer
from fastconv.bench.cases import TABLES, ConvCase, PoolCase
from fastconv.bench.cli import parse_options

ROOT = Path(__file__).resolve().parents[1]
ALL = [(t, c) for t, cs in TABLES.items() for c in cs]


def test_suite_names_are_the_benchmarks_md_tables():
    assert cases.SUITE_NAMES == ("resnet50", "resnet50_n8", "vgg16", "mobilenet_v2", "lenet",
                                 "dilated", "pooling", "backward")
    assert set(cases.TABLE_TITLES) == set(TABLES)


@pytest.mark.parametrize("table", list(TABLES))
def test_tables_have_unique_names_and_quick_and_f64_subsets(table):
    names = [c.name for c in TABLES[table]]
    assert len(names) == len(set(names))
    quick = cases.select(table, quick=True)
    assert 1 <= len(quick) <= 3
    assert cases.select(table, dtype="float64")
    assert set(cases.select(table, quick=True, dtype="float64")) <= set(quick)


@pytest.mark.parametrize("table,case", ALL, ids=[f"{t}-{c.name}" for t, c in ALL])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_case_geometry_is_valid_and_flops_follow_the_formula(table, case, layout):
    g = case.geometry(layout)
    assert g.input_shape == case.input_shape(layout)
    if case.family == "conv":
        again = conv2d_geometry(case.input_shape(layout), case.weight_shape, case.stride,
                                case.padding, case.dilation, case.groups, layout)
        assert again == g
        assert case.flops == 2 * g.N * g.K * g.OH * g.OW * (g.C // g.G) * g.KH * g.KW
        assert case.flops == g.flops
        assert case.op in cases.CONV_OPS
    else:
        assert case.kind in cases.POOL_KINDS
        assert case.flops == 0
        n_in, n_out = g.N * g.C * g.H * g.W, g.N * g.C * g.OH * g.OW
        extra = n_in if case.backward and case.kind == "max" else 0
        idx = 2 * n_out if case.return_indices else 0
        assert case.nbytes(4) == 4 * (n_in + n_out + extra + idx)
        if case.kind == "global_avg":
            assert (g.OH, g.OW) == (1, 1)


def test_known_layer_shapes():
    stem = TABLES["resnet50"][0]
    assert stem.geometry().output_shape == (1, 64, 112, 112)
    assert TABLES["resnet50_n8"][0].N == 8
    assert all(c.geometry().OH == c.H for c in TABLES["vgg16"])
    assert all(c.geometry().OH == 28 for c in TABLES["dilated"])
    assert [c.groups == c.C for c in TABLES["mobilenet_v2"]].count(True) == 6
    pool = pool2d_geometry((8, 64, 112, 112), 3, 2, 1, 1, False, "NCHW")
    assert TABLES["pooling"][0].geometry() == pool
    assert cases.conv_flops(1, 64, 56, 56, 64, 1, 3, 3) == 231211008


def test_backward_table_has_both_gradients_of_every_resnet50_and_lenet_conv():
    names = {c.name for c in TABLES["backward"]}
    for c in TABLES["resnet50"]:
        assert {f"{c.name}_dX", f"{c.name}_dW"} <= names
    for c in TABLES["lenet"]:
        if c.family == "conv":
            assert {f"lenet_{c.name}_dX", f"lenet_{c.name}_dW"} <= names
    pools = [c for c in TABLES["backward"] if c.family == "pool"]
    assert pools and all(p.backward for p in pools)


# ---------------------------------------------------------------------------- timing

def test_measure_interleaves_and_takes_medians():
    log = []
    t = timing.measure({"a": lambda: log.append("a"), "b": lambda: log.append("b")},
                       repeats=4, warmup_s=0)
    assert log[-8:] == ["a", "b"] * 4
    assert len(t["a"].times) == len(t["b"].times) == 4
    assert t["a"].median == sorted(t["a"].times)[1] / 2 + sorted(t["a"].times)[2] / 2


def test_measure_reports_failures_and_goes_on():
    def missing():
        raise NotImplementedError("later")

    def broken():
        raise ValueError("bad\nsecond line")

    t = timing.measure({"m": missing, "b": broken, "ok": lambda: 1}, repeats=3)
    assert t["m"].error == "n/a" and not t["m"].times
    assert t["b"].error == "ValueError: bad"
    assert t["ok"].ok and len(t["ok"].times) == 3 and t["ok"].result == 1


def test_measure_caps_and_skips_slow_peers():
    t = timing.measure({"fast": lambda: 0, "capped": lambda: 0, "slow": lambda: 0},
                       repeats=12, caps={"capped": 2}, skip_slower_than={"slow": -1.0})
    assert len(t["fast"].times) == 12 and len(t["capped"].times) == 2
    assert t["slow"].error.startswith("skipped")


def test_choose_repeats_has_a_floor_of_ten_for_fast_ops():
    assert timing.choose_repeats(0.04, target_s=0.01) == 10
    assert timing.choose_repeats(1e-5, target_s=1.0, max_repeats=50) == 50
    assert timing.choose_repeats(5.0) == 3


# ----------------------------------------------------------------------------- peers

TINY = [
    ConvCase("c", 2, 3, 7, 6, 4, 3, 2, 1),
    ConvCase("cdil", 1, 4, 9, 9, 4, 3, 1, 2, 2, groups=2),
    ConvCase("gi", 2, 3, 7, 6, 4, 3, 2, 1, op="conv2d_grad_input"),
    ConvCase("gw", 2, 3, 7, 6, 4, 3, 2, 1, op="conv2d_grad_weight"),
    PoolCase("mp", "max", 2, 3, 7, 6, 3, 2, 1),
    PoolCase("mpi", "max", 2, 3, 7, 6, 3, 2, 1, return_indices=True),
    PoolCase("ap", "avg", 2, 3, 8, 6, 2),
    PoolCase("ga", "global_avg", 2, 3, 5, 4),
    PoolCase("mpb", "max", 2, 3, 7, 6, 3, 2, 1, backward=True),
    PoolCase("apb", "avg", 2, 3, 8, 6, 2, backward=True),
    PoolCase("gab", "global_avg", 2, 3, 5, 4, backward=True),
]


@pytest.mark.parametrize("case", TINY, ids=[c.name for c in TINY])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_torch_peer_computes_the_same_op_as_the_reference(case, layout):
    if not torch_peer.available():
        pytest.skip("torch is not installed")
    arrays = ops.make_inputs(case, layout, "float64", seed=3)
    expected = ops.output_array(case, ops.numpy_api_call(reference, case, layout, arrays)())
    got = torch_peer.output_array(case, layout, torch_peer.call(case, layout, arrays)())
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", [c for c in TINY if c.family == "conv" and c.op == "conv2d"
                                  or c.family == "pool" and not c.backward],
                         ids=lambda c: c.name)
def test_onnx_peer_computes_the_same_op_as_the_reference(case):
    from fastconv.bench import onnx_peer
    if not onnx_peer.available():
        pytest.skip("onnx / onnxruntime are not installed")
    arrays = ops.make_inputs(case, "NCHW", "float32", seed=3)
    expected = ops.output_array(case, ops.numpy_api_call(reference, case, "NCHW", arrays)())
    got = onnx_peer.output_array(case, "NCHW", onnx_peer.call(case, "NCHW", arrays, 1)())
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError):
        onnx_peer.call(case, "NHWC", arrays, 1)


def test_inputs_are_in_the_requested_layout_and_dtype():
    case = TINY[2]
    arrays = ops.make_inputs(case, "NHWC", "float64")
    g = case.geometry("NHWC")
    assert arrays["x"].shape == g.input_shape and arrays["gy"].shape == g.output_shape
    assert arrays["w"].shape == g.weight_shape
    assert all(a.dtype == np.float64 and a.flags.c_contiguous for a in arrays.values())


# ---------------------------------------------------------------------------- report

def _record(layer, ratio, fc_ms=1.0, error=None):
    return dict(table="lenet", layer=layer, description="d", op="conv2d", family="conv",
                layout="NCHW", dtype="float32", threads=2, flops=10**9, bytes=1,
                peers={"fastconv": {"median_ms": None if error else fc_ms, "error": error},
                       "torch": {"median_ms": 1.0, "error": None}},
                skipped=None, check=None, gflops=None if error else 1e3 / fc_ms,
                pct_peak=None if error else 50.0, gbs=None, pct_bandwidth=None,
                ratios={} if error else {"torch": ratio})


def test_report_group_table_geomean_and_worst_layer():
    group = [_record("a", 0.5, 0.5), _record("b", 2.0, 2.0), _record("c", None, error="n/a"),
             _record("d", None, error="ValueError: boom")]
    text = report.format_group((2, "float32", "lenet", "NCHW"), group)
    assert "| c " in text and "n/a" in text
    assert "error [1]" in text and "[1] ValueError: boom" in text
    assert "geomean fastconv/torch 1.00 over 2 layer(s), worst b 2.00" in text
    lines = [l for l in text.splitlines() if l.startswith("|")]
    assert len({len(l) for l in lines}) == 1  # aligned


def test_report_marks_winograd_layers_and_their_algorithm_is_the_plan():
    group = [dict(_record("a", 0.5), algorithm="winograd"), dict(_record("b", 1.0),
                                                                 algorithm="igemm"),
             dict(_record("c", 0.7), algorithm="winograd2")]
    text = report.format_group((2, "float32", "lenet", "NCHW"), group)
    rows = [l for l in text.splitlines() if l[:4] in ("| a ", "| b ", "| c ")]
    assert "d, winograd 4x4" in rows[0] and "winograd" not in rows[1]
    assert "d, winograd 2x2" in rows[2]
    from fastconv.bench import runner
    vgg = {c.name: c for c in cases.select("vgg16")}
    assert runner._fastconv_algorithm(vgg["conv3x3_64"], "NHWC") == "winograd"
    assert runner._fastconv_algorithm(vgg["conv3x3_3_64"], "NCHW") == "smallc"
    back = [c for c in cases.select("backward") if c.op != "conv2d"]
    assert back and runner._fastconv_algorithm(back[0], "NCHW") is None


def test_summary_has_a_row_per_group_and_columns_per_peer():
    records = [_record("a", 0.5), dict(_record("b", 2.0), layout="NHWC")]
    text = report.format_summary(records)
    assert "fc/torch geomean" in text and "worst fc/torch" in text
    assert len([l for l in text.splitlines() if l.startswith("| lenet")]) == 2


def test_geomean_ignores_missing_values():
    assert report.geomean([None, 4.0, 1.0]) == pytest.approx(2.0)
    assert report.geomean([]) is None


# ------------------------------------------------------------------------------- CLI

def test_cli_options():
    options, _ = parse_options(["--suite", "lenet,pooling", "--threads", "2,1", "--layout",
                                "nhwc", "--dtype", "float64", "--quick", "--repeats", "3"])
    assert options.tables == ["lenet", "pooling"] and options.threads == [1, 2]
    assert options.layouts == ["NHWC"] and options.dtypes == ["float64"]
    assert options.quick and options.repeats == 3
    for bad in (["--suite", "nope"], ["--threads", "0"], ["--layout", "NCWH"],
                ["--repeats", "x"]):
        with pytest.raises(SystemExit):
            parse_options(bad)


def _run_cli(*args, timeout=240):
    return python_subprocess(["-m", "fastconv.bench", *args], capture_output=True, text=True,
                             timeout=timeout)


def test_cli_tiny_run_writes_tables_and_json(tmp_path):
    out = tmp_path / "out.json"
    proc = _run_cli("--suite", "lenet", "--quick", "--repeats", "2", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "## LeNet (N=64): NCHW, float32" in proc.stdout
    assert "## LeNet (N=64): NHWC, float32" in proc.stdout
    assert "| layer" in proc.stdout and "## Summary" in proc.stdout
    assert "[4/4]" in proc.stderr
    data = json.loads(out.read_text())
    assert data["machine"]["roofs"] and data["machine"]["cpu"]
    records = data["records"]
    quick = [c.name for c in cases.select("lenet", quick=True)]
    assert [(r["layer"], r["layout"]) for r in records] == \
        [(n, lay) for lay in ("NCHW", "NHWC") for n in quick]
    for r in records:
        fc = r["peers"]["fastconv"]
        assert (fc["median_ms"] is not None and fc["repeats"] == 2) or fc["error"]
        if r["check"] is not None:
            assert r["check"]["ok"], r["check"]


def test_cli_plot_without_matplotlib_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from fastconv.bench.cli import main
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["--suite", "lenet", "--quick", "--plot", str(tmp_path / "p.png")]) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_plot_ratios_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from fastconv.bench.plot import plot_ratios
    path = tmp_path / "ratios.png"
    plot_ratios([_record("a", 0.5), _record("b", 2.0), _record("c", None, error="n/a")],
                str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
