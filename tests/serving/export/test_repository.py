"""Model repository: the export CLI, models.config and batching.config."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest
from tensorflow_serving.config import model_server_config_pb2

from serving import export
from serving.export import repository

OFF = "--jit_compile=off"  # the CLI's default "auto" times the model at 1000x1500


def test_export_cli_writes_versions_and_configs(tmp_path, helpers, capsys):
    single = tmp_path / "single.keras"
    helpers.tiny_single_model().save(single)
    stack = tmp_path / "stack.keras"
    helpers.tiny_stack_model().save(stack)
    base = tmp_path / "models"

    def run(model, name):
        return export.main([f"--model={model}", f"--base_path={base}", name, OFF])

    first = run(single, "--name=hdrcnn")
    second = run(single, "--name=hdrcnn")
    merged = run(stack, "--name=merge")
    assert (first, second, merged) == (
        base / "hdrcnn" / "1",
        base / "hdrcnn" / "2",
        base / "merge" / "1",
    )
    assert "exported stack model 'merge'" in capsys.readouterr().out
    for version in (first, second, merged):
        assert (version / "saved_model.pb").is_file() and (
            version / "variables"
        ).is_dir()

    configs = repository.read_models_config(base / "models.config")
    assert [(c.name, c.base_path, c.model_platform) for c in configs] == [
        ("hdrcnn", str((base / "hdrcnn").resolve()), "tensorflow"),
        ("merge", str((base / "merge").resolve()), "tensorflow"),
    ]
    params = repository.read_batching_config(base / "batching.config")
    assert params["max_batch_size"] >= 1 and params["num_batch_threads"] >= 1
    assert params["batch_timeout_micros"] >= 0 and params["max_enqueued_batches"] >= 1
    assert params["pad_variable_length_inputs"] is False


def test_config_base_path_and_method_flag(tmp_path, helpers):
    model_path = tmp_path / "single.keras"
    helpers.tiny_single_model().save(model_path)
    base = tmp_path / "repo"
    export.main(
        [
            f"--model={model_path}",
            f"--base_path={base}",
            "--name=m",
            "--method=eilertsen",
            "--config_base_path=/models",
            "--version=7",
            OFF,
        ]
    )
    assert (base / "m" / "7" / "saved_model.pb").is_file()
    (config,) = repository.read_models_config(base / "models.config")
    assert config.base_path == "/models/m"
    with pytest.raises(FileExistsError):
        export.main(
            [f"--model={model_path}", f"--base_path={base}", "--name=m"]
            + ["--version=7", OFF]
        )


def test_failed_export_leaves_repository_untouched(tmp_path, helpers):
    base = tmp_path / "repo"
    export.export_to_repository(helpers.tiny_single_model(), base, "m")
    before = sorted(p.name for p in (base / "m").iterdir())
    config = (base / "models.config").read_text()
    with pytest.raises(ValueError, match="stack model"):
        export.export_to_repository(
            helpers.tiny_single_model(), base, "m", input_kind="stack"
        )
    assert sorted(p.name for p in (base / "m").iterdir()) == before == ["1"]
    assert (base / "models.config").read_text() == config


def test_infer_input_kind(helpers):
    assert export.infer_input_kind(helpers.tiny_single_model()) == "single"
    assert export.infer_input_kind(helpers.tiny_stack_model()) == "stack"
    other = keras.Input((None, None, 3), name="ldr")
    extra = keras.Input((1,), name="gain")
    model = keras.Model({"ldr": other, "gain": extra}, other)
    with pytest.raises(ValueError, match="exactly 'ldr' and 'exposure'"):
        export.infer_input_kind(model)
    flat = keras.Input((7,))
    with pytest.raises(ValueError, match="pass --method"):
        export.infer_input_kind(keras.Model(flat, flat))


@pytest.mark.parametrize("name", ["", "a/b", ".hidden", "12"])
def test_bad_model_names(tmp_path, helpers, name):
    with pytest.raises(ValueError, match="invalid model name"):
        export.export_to_repository(helpers.tiny_single_model(), tmp_path, name)


def test_config_files_are_valid_text_protos(tmp_path):
    text = (
        "model_config_list {\n config {\n  name: 'a'\n  base_path: '/models/a'\n"
        "  model_platform: 'tensorflow'\n  model_version_policy { latest { num_versions: 2 } }\n"
        " }\n}\n"
    )
    (tmp_path / "models.config").write_text(text)
    (config,) = repository.read_models_config(tmp_path / "models.config")
    assert config.model_version_policy.latest.num_versions == 2
    assert isinstance(config, model_server_config_pb2.ModelConfig)
    (tmp_path / "bad.config").write_text("model_config_list { config { nme: 'a' } }")
    with pytest.raises(ValueError, match="invalid model config file"):
        repository.read_models_config(tmp_path / "bad.config")
    path = repository.write_batching_config(
        tmp_path, max_batch_size=8, allowed_batch_sizes=[2, 8]
    )
    assert "max_batch_size {\n  value: 8\n}" in Path(path).read_text()
    assert repository.read_batching_config(path)["allowed_batch_sizes"] == [2, 8]
    with pytest.raises(ValueError, match="unknown batching"):
        repository.write_batching_config(tmp_path, max_batch=3)
