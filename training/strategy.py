"""tf.distribute strategy selection, and where each worker writes.

--strategy:
  auto          MirroredStrategy when more than one GPU is visible, else one device
  one_device    the first GPU, or the CPU
  mirrored      MirroredStrategy over the local GPUs (or over --cpu_replicas logical
                CPUs: a way to exercise data parallelism on a machine without GPUs)
  multi_worker  MultiWorkerMirroredStrategy across machines described by TF_CONFIG
                (every worker runs the same command with the same --model_dir).
                Only the chief writes into --model_dir (checkpoints, final.keras,
                the export); the other workers write into private temporary
                folders (every worker must take part in saving checkpoints).
With more than one replica training.main trains with the replicated loop of
training/loop.py rather than Model.fit (see there why).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import tensorflow as tf

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")


def split_cpu(replicas: int) -> None:
    """Splits the physical CPU into `replicas` logical devices (before TF starts)."""
    if replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
        )


def make_strategy(name: str, cpu_replicas: int = 0) -> tf.distribute.Strategy:
    """The strategy `name` (one of STRATEGIES)."""
    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {STRATEGIES}, got {name!r}")
    if name == "multi_worker":
        # Workers and their addresses come from TF_CONFIG (one worker without it).
        # training.main trains with its replicated loop under this strategy
        # (training/loop.py: Keras 3.15's fit() fails under it).
        split_cpu(cpu_replicas)
        return tf.distribute.MultiWorkerMirroredStrategy()
    split_cpu(cpu_replicas)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    # One device: TF's default strategy (the first GPU, else the CPU). Not
    # OneDeviceStrategy: under it Keras 3.15's fit() re-distributes the dataset and
    # the batches it trains on are no longer the pipeline's own (measured: the
    # first step's loss 0.4137 instead of 0.4343 on the same weights and batch).
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that owns --model_dir (always true with one worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG", "{}")).get(
        "cluster", {}
    )
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def output_dir(model_dir: Path, strategy: tf.distribute.Strategy) -> Path:
    """--model_dir on the chief, a private temporary folder on the other workers."""
    if is_chief(strategy):
        return model_dir
    resolver = strategy.cluster_resolver
    return Path(
        tempfile.mkdtemp(prefix=f"hdr_keras_{resolver.task_type}{resolver.task_id}_")
    )
