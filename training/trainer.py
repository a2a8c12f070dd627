"""Runs one training run from a `RunConfig`: stages, fit segments, checkpoints,
history, evaluation, export.

    from training import trainer
    from training.run_config import RunConfig
    results = trainer.run(RunConfig(method="ahdrnet", steps=20, export=False))

Outputs in the run's model_dir are listed in `training.main`'s docstring.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import tensorflow as tf
from absl import logging

import hdr_keras
from hdr_keras.errors import UserError
from hdr_keras.export import export_model
from hdr_keras.inference.paths import final_model_path
from hdr_keras.ops.stack import default_reference
from training import callbacks, checkpoints, configs, data, evaluation, faults, loop
from training import real_pairs, stage_data, stages
from training import strategy as strategies
from training.run_config import RunConfig


def resolve_settings(cfg: RunConfig, config, using_builtin: bool) -> dict:
    """Steps, epoch length, batch, patch and learning rate: flags over the schedule
    (the quick one on built-in data, the paper's on --data)."""
    schedule = config.quick if using_builtin else config.paper
    steps = cfg.steps or schedule.steps
    return {
        "steps": steps,
        "steps_per_epoch": min(cfg.steps_per_epoch or schedule.steps_per_epoch, steps),
        "batch_size": cfg.batch_size or schedule.batch_size,
        "patch_size": cfg.patch_size or schedule.patch_size,
        "learning_rate": cfg.learning_rate or config.learning_rate,
    }


def _model_kwargs(cfg: RunConfig, spec) -> dict:
    kwargs = {}
    if cfg.vgg_weights:
        if not spec.takes_vgg_weights:
            raise UserError(f"--vgg_weights does not apply to method {spec.name!r}")
        kwargs["vgg_weights"] = cfg.vgg_weights
    return kwargs


def _first_two(examples):
    """Model inputs, display images and references of the first two eval examples."""
    chosen = examples[:2]
    first = chosen[0][0]
    if isinstance(first, dict):  # stack: show the reference (middle) frame
        inputs = {k: tf.concat([e[0][k] for e in chosen], 0) for k in first}
        display = inputs["ldr"][:, default_reference(inputs["ldr"].shape[1])]
    else:
        inputs = display = tf.concat([e[0] for e in chosen], 0)
    return inputs, display, tf.concat([e[1] for e in chosen], 0)


def _is_keras_model(path: str) -> bool:
    """A `.keras` file or a training model_dir (else: an authors' checkpoint)."""
    return Path(path).suffix == ".keras" or Path(path).is_dir()


def build_model(cfg: RunConfig, spec) -> keras.Model:
    """The inference model: built, or loaded with --init_from (a .keras file, a
    model_dir, or the authors' published checkpoint of the method); parts frozen."""
    if cfg.init_from:
        try:
            if _is_keras_model(cfg.init_from) or not spec.authors_weights:
                model = hdr_keras.load_model(cfg.init_from)
            else:
                model = hdr_keras.load_authors_weights(
                    spec.name, cfg.init_from, **_model_kwargs(cfg, spec)
                )
        except (FileNotFoundError, ValueError) as error:
            raise UserError(f"--init_from: {error}") from None
        if model.name != spec.name:
            raise UserError(
                f"--init_from={cfg.init_from} holds a {model.name!r} model, not "
                f"{spec.name!r}"
            )
        print(f"initialised from {cfg.init_from}")
    else:
        model = hdr_keras.build_model(spec.name, **_model_kwargs(cfg, spec))
    if cfg.freeze:
        try:
            frozen = hdr_keras.freeze(model, cfg.freeze, method=spec.name)
        except ValueError as error:
            raise UserError(f"--freeze: {error}") from None
        print(f"froze {len(frozen)} layers ({', '.join(cfg.freeze)})")
    if keras.mixed_precision.global_policy().compute_dtype != "float32":
        # Reduced-precision compute, float32 output (and float32 losses/metrics).
        output = keras.layers.Activation("linear", dtype="float32", name="hdr_float32")(
            model.output
        )
        model = keras.Model(model.input, output, name=model.name)
    return model


class Trainer:
    """Trains one method as `cfg` says; `run()` returns the evaluation results."""

    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        try:
            self.spec = hdr_keras.get_method(cfg.method)
            if self.spec.training_free:
                raise UserError(
                    f"--method={self.spec.name} is training-free: it has no weights, "
                    "so there is nothing to train; run it with `python -m "
                    f"serving.predict --method={self.spec.name} --inputs ...` (or "
                    "training.evaluate --method)"
                )
            self.config = configs.get_config(cfg.method, cfg.vgg_weights)
        except ValueError as error:
            raise UserError(f"--method: {error}") from None
        self.plan = self.config  # the stages this run can run (`run` narrows it)
        if cfg.loss and cfg.loss not in self.config.loss_variants:
            raise UserError(f"--loss does not apply to method {self.spec.name!r}")

    # -- one stage ---------------------------------------------------------------

    def _compile(self, stage, model, settings: dict):
        """The compiled loss view of `model` for `stage` (None: the whole method)."""
        cfg, spec, config = self.cfg, self.spec, self.config
        learning_rate = settings["learning_rate"]  # the stage's: stage_data.stage_settings
        if stage is not None:  # train only this stage's parts (plus --freeze)
            stages.set_trainable_parts(spec.name, model, stage.train, cfg.freeze)
        loss_model = (
            stage.loss_model
            if stage is not None and stage.loss_model
            else spec.loss_model
        )
        train_model = loss_model(model)
        schedule = keras.optimizers.schedules.ExponentialDecay(
            learning_rate,
            decay_steps=settings["steps_per_epoch"],
            decay_rate=config.decay_per_epoch,
            staircase=True,
        )
        loss = (config.loss if stage is None else stage.loss)()
        if cfg.loss is not None:  # a variant of the (stage's) loss class: --loss
            loss = type(loss)(cfg.loss)
        if cfg.optimizer == "sgd":
            optimizer = keras.optimizers.SGD(schedule)
        else:
            optimizer = keras.optimizers.Adam(schedule, beta_1=config.beta_1)
        train_model.compile(optimizer=optimizer, loss=loss)
        return train_model

    def _suffix(self, stage) -> tuple[str, ...]:
        """Sub-folder of a stage's checkpoints, logs and previews: none for a run
        of one stage that --stage did not pick (HDRCNN without pre-training data
        keeps the single-stage layout)."""
        if stage is None or (self.cfg.stage is None and len(self.plan.stages) == 1):
            return ()
        return (stage.name,)

    def train_stage(
        self, stage, steps, model, stream, strategy, settings, out_dir, previews
    ):
        """Compiles the loss view of one stage, restores its checkpoint and fits.

        `stream` is (train(start_step, targets), its glob): the stage's data.
        """
        cfg, spec = self.cfg, self.spec
        train_data, train_pattern = stream
        suffix = self._suffix(stage)
        faults.set_stage(None if stage is None else stage.name)
        with strategy.scope():
            train_model = self._compile(stage, model, settings)
            manager = checkpoints.manager_for(
                train_model, out_dir.joinpath("checkpoints", *suffix), full=model
            )
            if stage is not None and manager.latest_checkpoint is None:
                stages.restore_earlier_stage(self.plan, stage, model, out_dir)
            step = checkpoints.restore_latest(manager)
        preview = callbacks.PreviewImages(
            model,
            *previews,
            out_dir.joinpath("previews", *suffix),
            out_dir.joinpath("logs", *suffix),
            callbacks.PREVIEW_PEAK[spec.input_kind],
        )
        fit_callbacks = [
            checkpoints.PeriodicCheckpoint(
                manager, cfg.checkpoint_every or settings["steps_per_epoch"]
            ),
            callbacks.LearningRateLogger(),
            callbacks.EpochHistory(
                lambda epoch, loss, count: stages.record_epoch(
                    out_dir, stage, epoch, loss, count
                )
            ),
            preview,
            keras.callbacks.TensorBoard(
                str(out_dir.joinpath("logs", *suffix)), update_freq="epoch"
            ),
        ]
        logging.info(
            "Training %s%s for %d steps (from step %d) on %d replica(s)",
            spec.name,
            "" if stage is None else f" stage {stage.name}",
            steps,
            step,
            strategy.num_replicas_in_sync,
        )
        targets = None if stage is None else stage.targets
        per_epoch = min(settings["steps_per_epoch"], steps)
        if step and (step % per_epoch == 0 or step == steps):
            preview.catch_up((step - 1) // per_epoch)
        try:
            for epoch, epochs, count in stages.fit_segments(step, steps, per_epoch):
                dataset = train_data(step, targets)
                fit_args = dict(
                    initial_epoch=epoch,
                    epochs=epoch + epochs,
                    steps_per_epoch=count,
                    callbacks=fit_callbacks,
                )
                if loop.needs_replicated_loop(strategy):
                    loop.fit_replicated(train_model, dataset, strategy, **fit_args)
                else:  # the stream is ordered by tfrecords.stream
                    train_model.fit(dataset, verbose=1, shuffle=False, **fit_args)
                step += epochs * count
        # A CRC error (DataLossError; UnknownError when raised in the reading
        # py-function of tfrecords/stream.py) or a payload that does not parse.
        except (
            tf.errors.DataLossError,
            tf.errors.InvalidArgumentError,
            tf.errors.UnknownError,
        ):
            from tfrecords.shards import find_corrupt_shard, list_shards

            for problem in find_corrupt_shard(list_shards(train_pattern)):
                raise problem from None
            raise
        if stage is not None:
            stages.save_stage_weights(stage, model, out_dir)
            stages.set_trainable_parts(spec.name, model, (), cfg.freeze)

    # -- the run -----------------------------------------------------------------

    def run(self) -> dict:
        """Trains every stage, saves final.keras, evaluates, exports."""
        cfg, spec, config = self.cfg, self.spec, self.config
        try:
            strategy = strategies.make_strategy(cfg.strategy, cfg.cpu_replicas)
        except ValueError as error:
            raise UserError(str(error)) from None
        if cfg.mixed_precision:
            keras.mixed_precision.set_global_policy(cfg.mixed_precision)
        using_builtin = cfg.data is None
        settings = resolve_settings(cfg, config, using_builtin)
        schedule = config.quick if using_builtin else config.paper
        self.plan = stage_data.available_stages(config, cfg, using_builtin)
        run_stages = stages.select(
            self.plan,
            cfg.method,
            cfg.stage,
            settings["steps"],
            schedule.steps if cfg.steps is None else None,
        )
        keras.utils.set_random_seed(cfg.seed)
        try:
            method_data = data.load(
                spec,
                cfg.data,
                cfg.eval_data,
                settings["batch_size"],
                settings["patch_size"],
                cfg.seed,
                strategy,
            )
        except ValueError as error:
            raise UserError(str(error)) from None
        out_dir = strategies.output_dir(cfg.output_dir(), strategy)
        out_dir.mkdir(parents=True, exist_ok=True)
        streams, stage_records = stage_data.stage_streams(
            self, run_stages, method_data, settings, using_builtin, strategy, out_dir
        )
        recorded = {
            "method": spec.name,
            "data": method_data.train_pattern,
            "eval_data": method_data.eval_pattern,
            "seed": cfg.seed,
            "loss": cfg.loss,
            "strategy": type(strategy).__name__,
            "replicas": strategy.num_replicas_in_sync,
            "init_from": cfg.init_from,
            "freeze": list(cfg.freeze),
            "mixed_precision": cfg.mixed_precision,
            "optimizer": cfg.optimizer,
            "stages": {s.name: n for s, n in run_stages if s is not None},
            **settings,
        }
        if stage_records:  # which stage and data each weight came from
            recorded["stage_weights"] = stage_data.record_stages(out_dir, stage_records)
            recorded["final_weights_from_stage"] = run_stages[-1][0].name
        (out_dir / "config.json").write_text(json.dumps(recorded, indent=2) + "\n")
        logging.info("Run configuration: %s", recorded)
        try:
            pairs_dir, pairs_eilertsen = real_pairs.plan(
                spec.name, spec.input_kind, cfg.real_pairs, cfg.real_pairs_eilertsen
            )
        except ValueError as error:
            raise UserError(str(error)) from None
        with strategy.scope():
            model = build_model(cfg, spec)
        previews = _first_two(method_data.evaluation)
        for (stage, stage_steps), (stream, stage_settings) in zip(run_stages, streams):
            if stage is not None:
                print(f"stage {stage.name!r}: {stage_steps} steps on {stream[1]}")
            self.train_stage(
                stage,
                stage_steps,
                model,
                stream,
                strategy,
                stage_settings,
                out_dir,
                previews,
            )
        final_path = final_model_path(out_dir)
        model.save(final_path)
        print(f"saved {final_path}")
        results = self.evaluate(model, method_data, out_dir)
        if pairs_dir is not None:
            real_pairs.run(spec.name, model, pairs_dir, out_dir, pairs_eilertsen)
        if cfg.export and strategies.is_chief(strategy):
            path = export_model(
                model,
                out_dir / "export",
                spec.input_kind,
                method=spec.name,
                jit_compile=cfg.export_jit_compile,
            )
            print(f"exported SavedModel to {path}")
        return results

    def evaluate(self, model, method_data, out_dir: Path) -> dict:
        """Scores the model and the baselines on the held-out set; writes eval.json."""
        spec = self.spec
        predictors = {spec.name: lambda inputs: model(inputs, training=False)}
        predictors.update(evaluation.baselines(spec.input_kind))
        results = evaluation.evaluate(
            predictors, method_data.evaluation, spec.input_kind
        )
        evaluation.write_json(results, out_dir / "eval.json")
        print(
            f"evaluation on {len(method_data.evaluation)} held-out examples "
            f"({method_data.eval_pattern}):"
        )
        print(evaluation.format_table(results))
        return results


def run(cfg: RunConfig) -> dict:
    """Trains, evaluates and exports as `cfg` says; returns the evaluation results."""
    return Trainer(cfg).run()
