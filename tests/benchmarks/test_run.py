"""`python -m benchmarks.run`: the JSON/Markdown report, and failures of a worker."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import pytest

from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic_stack import synthetic_stack_records

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(monkeypatch):
    """The `benchmarks.run` module (the benchmarks folder is not installed)."""
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.run

    return benchmarks.run


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_tiny_run_writes_json_and_markdown(bench, tmp_path, capsys):
    data = tmp_path / "data"
    write_sharded(synthetic_stack_records(3, 40, 40), data, "train", 1)
    out = tmp_path / "bench" / "tiny.json"
    # In this process (the registry is imported once); each method still runs in
    # a subprocess of its own.
    status = bench.main(
        [
            "--tiny",
            "--methods=wu_unet",
            f"--data={data}/train-*.tfrecord",
            "--sizes=32x32,32x64",
            f"--out={out}",
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0, printed
    report = json.loads(out.read_text())
    assert {"created", "command", "machine", "settings", "duration_s", "methods"} <= (
        report.keys()
    )
    machine = report["machine"]
    assert machine["tensorflow"] and machine["cpu"] and machine["logical_cores"] >= 1
    # Figures from different machines can be told apart: instruction sets, oneDNN.
    assert "instruction sets: " in printed and "oneDNN " in printed
    assert isinstance(machine["cpu_features"], list)
    assert machine["onednn_enabled"] in (True, False, None)
    assert report["settings"]["sizes"] == [[32, 32], [32, 64]]
    (result,) = report["methods"]
    assert result["method"] == "wu_unet" and result["status"] == "ok", result
    assert result["errors"] == {} and result["parameters"] > 1_000_000
    assert [(r["height"], r["width"]) for r in result["inference"]] == [
        (32, 32),
        (32, 64),
    ]
    for row in result["inference"]:
        for key in ("median_s", "best_s", "s_per_megapixel", "peak_rss_mib"):
            assert _positive(row[key]), (key, row)
        assert row["median_s"] >= row["best_s"]
    largest = result["inference"][-1]
    # Wu's U-Net: ~0.59 MFLOP per pixel (convolutions dominate).
    assert 0.3e6 < largest["flops_per_pixel"] < 1.0e6
    assert largest["flops_by_op"]["Conv2D"] > 0 and _positive(largest["gflops_per_s"])
    assert "flops_per_pixel" not in result["inference"][0]  # tiny: largest only
    training, pipeline = result["training"], result["pipeline"]
    assert (training["batch_size"], training["patch_size"]) == (2, 32)
    assert _positive(training["step_s"]) and _positive(training["peak_rss_mib"])
    assert _positive(pipeline["examples_per_s"]) and pipeline["batches"] == 2
    ratio = result["pipeline_vs_model"]
    assert ratio["model_examples_per_s"] == pytest.approx(2 / training["step_s"])
    assert ratio["ratio"] == pytest.approx(
        pipeline["examples_per_s"] / ratio["model_examples_per_s"]
    )
    assert ratio["pipeline_limits_training"] == (ratio["ratio"] < 3)
    # The served SavedModel, plain and XLA, next to the Keras model (tiny: 32x48).
    served = result["served"]
    (row,) = served["sizes"]
    assert (row["height"], row["width"]) == (32, 48) and served["skipped"] == []
    for key in ("keras_s", "plain_s", "xla_s", "plain_cpu_s", "xla_cpu_s"):
        assert _positive(row[key]), (key, row)
    assert row["xla_compile_s"] >= 0
    assert row["max_abs_difference"] <= 1e-5  # the export's XLA tolerance
    faster = "xla" if row["xla_s"] < row["plain_s"] else "plain"
    assert served["auto"]["choice"] == faster
    table = out.with_suffix(".md").read_text()
    assert "| `wu_unet` | 32x48 |" in table and "served XLA s (+compile)" in table
    assert f"| {faster} |" in table
    assert "| `wu_unet` | stack | 12,534,915 |" in table
    assert "s/MP 32x64" in table and table in printed
    assert "[1/1] wu_unet" in printed and "wu_unet: training step" in printed


def test_crashed_and_timed_out_workers_are_reported(bench, tmp_path):
    result_path = tmp_path / "m.json"
    # A worker that measured inference, then died in training.
    partial = {"method": "m", "errors": {}, "phase": "training", "inference": []}
    result_path.write_text(json.dumps(partial))
    code = "print('bench: measuring'); print('Killed'); import sys; sys.exit(137)"
    returncode, timed_out, tail = bench.run_worker([sys.executable, "-c", code], 60)
    assert (returncode, timed_out) == (137, False) and tail[-1] == "Killed"
    result = bench.collect("m", result_path, returncode, timed_out, tail, 60)
    assert result["status"] == "crashed" and result["inference"] == []
    assert "exit status 137 during training: Killed" in result["status_detail"]

    returncode, timed_out, tail = bench.run_worker(
        [sys.executable, "-c", "import time; time.sleep(30)"], 1
    )
    assert timed_out
    result = bench.collect("n", tmp_path / "missing.json", returncode, True, tail, 1)
    assert result["status"] == "timeout"
    assert "killed after 1 s during start-up" in result["status_detail"]


def _fake_report(methods):
    settings = {
        "mode": "quick",
        "schedule": "quick",
        "sizes": [[8, 8]],
        "xla": False,
        "warmup": 1,
        "runs": 1,
        "frames": 3,
    }
    machine = {"cpu": "cpu", "usable_cores": 2, "load_average": [1.0, 1.0, 1.0]}
    return {
        "settings": settings,
        "machine": machine,
        "duration_s": 1.0,
        "methods": methods,
    }


def test_markdown_flags_slow_pipelines_failures_and_training_free(bench):
    from benchmarks import _report

    row = {"height": 8, "width": 8, "s_per_megapixel": 2.0, "peak_rss_mib": 500.0}
    slow = {
        "method": "slow_data",
        "input_kind": "single",
        "parameters": 10,
        "inference": [dict(row, flops_per_pixel=2e6, gflops_per_s=4.0)],
        "training": {"batch_size": 4, "patch_size": 64, "step_s": 2.0},
        "pipeline": {"examples_per_s": 5.0},
        "errors": {},
        "status": "ok",
    }
    slow["pipeline_vs_model"] = _report.pipeline_ratio(slow)
    assert slow["pipeline_vs_model"]["ratio"] == pytest.approx(2.5)
    free = {
        "method": "classic",
        "input_kind": "stack",
        "parameters": 0,
        "inference": [row],
        "training_skipped": "training-free (no trainable weights)",
        "errors": {},
        "status": "ok",
    }
    broken = {
        "method": "broken",
        "input_kind": "stack",
        "errors": {"build": "ValueError: bad | kernel"},
        "status": "error",
    }
    table = _report.markdown(_fake_report([slow, free, broken]))
    lines = {line.split(" | ")[0]: line for line in table.splitlines()}
    assert "2.5x **< 3x**" in lines["| `slow_data`"]
    assert "input pipeline < 3x the model's rate" in lines["| `slow_data`"]
    assert "| 2.000 | 4.0 | 2.00 (4, 64) | 2.00 | 5.0 |" in lines["| `slow_data`"]
    assert "| n/a |" in lines["| `classic`"] and "training-free" in lines["| `classic`"]
    assert "build: ValueError: bad \\| kernel" in lines["| `broken`"]


def test_served_table_notes_skipped_sizes_and_refused_xla(bench):
    from benchmarks import _method, _report

    kalantari = {
        "method": "kalantari_we",
        "input_kind": "stack",
        "inference": [],
        "errors": {},
        "status": "ok",
        "served": {
            "sizes": [
                {"height": 8, "width": 8, "keras_s": 2.0, "plain_s": 2.5},
            ],
            "skipped": ["1000x1500: projected 900 s > budget 120 s"],
            "xla_error": "jit_compile='on': method kalantari_we cannot ... | x",
        },
    }
    kalantari["served"]["auto"] = _method.auto_choice(kalantari["served"])
    assert kalantari["served"]["auto"]["choice"] == "plain"
    table = _report.markdown(_fake_report([kalantari]))
    lines = table.splitlines()
    (line,) = [row for row in lines if row.startswith("| `kalantari_we` | 8x8")]
    assert "| 2.000 | 2.500 | – | – | plain | – / – / – |" in line
    assert "not timed at 1000x1500: projected 900 s > budget 120 s" in line
    assert "... \\| x" in line
    # No served figures (an older report): no served table.
    assert "served XLA" not in _report.markdown(_fake_report([]))


def test_served_sizes_beyond_the_budget_are_projected_from_keras(bench):
    from benchmarks import _method

    result = {"inference": [{"megapixels": 0.1, "s_per_megapixel": 10.0}]}
    settings = {"warmup": 1}
    # 1.5 MP x 10 s/MP = 15 s per call, 2 x (first + warm-up + timed) calls.
    assert _method.projected_served_s(result, 1000, 1500, settings) == pytest.approx(
        90.0
    )
    assert _method.projected_served_s({"inference": []}, 8, 8, settings) is None
    differ = {"sizes": [{"plain_s": 1.0, "xla_s": 0.5, "max_abs_difference": 3e-5}]}
    assert _method.auto_choice(differ)["choice"] == "plain"
    faster = {"sizes": [{"plain_s": 1.0, "xla_s": 0.5, "max_abs_difference": 1e-6}]}
    assert _method.auto_choice(faster)["choice"] == "xla"


def test_unknown_method_is_an_error_naming_the_flag(bench, tmp_path, capsys):
    assert bench.main(["--methods=wu_unet,nope", f"--out={tmp_path}/b.json"]) == 2
    error = capsys.readouterr().err
    assert "--methods: unknown nope; registered:" in error and "wu_unet" in error
    assert not (tmp_path / "b.json").exists()


def test_training_setup_tells_training_free_from_unconfigured(bench):
    import keras

    from benchmarks import _method
    from hdr_keras.registry import get_method

    settings = {"schedule": "paper", "batch_size": None, "patch_size": None}
    settings["stage"] = None
    unconfigured = dataclasses.replace(get_method("wu_unet"), name="not_configured")
    inputs = keras.Input((None, None, 3))
    without_weights = keras.Model(inputs, keras.layers.Activation("relu")(inputs))
    reason = _method.training_setup(unconfigured, without_weights, settings)
    assert reason == "training-free (no trainable weights)"
    with_weights = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    with pytest.raises(ValueError, match="trainable method without a training config"):
        _method.training_setup(unconfigured, with_weights, settings)
    config, stage, batch, patch = _method.training_setup(
        get_method("wu_unet"), with_weights, settings
    )
    assert (stage, batch, patch) == (None, 16, 256)  # Wu et al.'s paper schedule
    settings.update(schedule="quick", patch_size=48)
    assert _method.training_setup(get_method("wu_unet"), with_weights, settings)[
        2:
    ] == (4, 48)


def test_methods_sharing_built_in_data_are_prepared_once(bench):
    import hdr_keras
    from training import configs

    assert bench._data_key("ahdrnet") == bench._data_key("wu_unet")
    assert bench._data_key("ahdrnet") != bench._data_key("eilertsen")
    for method in hdr_keras.list_methods():
        assert (bench._data_key(method) is None) == (method not in configs.CONFIGS)


def test_time_calls_and_peak_memory(bench):
    import time

    import numpy as np

    from benchmarks._measure import MIB, PeakMemory, time_calls

    calls = []
    timing = time_calls(lambda: (calls.append(1), time.sleep(0.02)), 2, 3)
    assert len(calls) == 5 and timing["runs"] == 3
    assert 0.02 <= timing["best_s"] <= timing["median_s"]
    calls.clear()  # 5 runs of >= 0.1 s do not fit in 0.25 s: 2 (or 1) do
    timing = time_calls(lambda: (calls.append(1), time.sleep(0.1)), 0, 5, 0.25)
    assert timing["runs"] == len(calls) and 1 <= len(calls) <= 2
    with PeakMemory() as memory:
        block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
        del block
    assert memory.isolated and memory.peak >= memory.start
    assert 60 <= memory.delta / MIB < 200
