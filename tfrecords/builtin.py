"""The built-in synthetic datasets: written to TFRecords on first use, then cached.

- single-image methods: "hdr" examples of procedural scenes (`BuiltinSingleImageSet`);
- stack methods: "stack" examples of dynamic-scene exposure stacks (`BuiltinStackSet`);
- Kalantari 2017: those training stacks aligned with optical flow and cut into
  selected 40 x 40 patches (`BuiltinKalantariPatchSet`);
- HDRCNN's pre-training: linearised 8-bit renderings of other synthetic scenes, a
  stand-in for a folder of LDR photos (`BuiltinLdrRenderingSet`).

The cache folder is $HDR_KERAS_CACHE, or ~/.cache/hdr_keras. A dataset folder is
complete only once its marker file exists: it is built in a temporary folder and
renamed into place, so an interrupted build is simply redone. Builds of one folder
are serialised across processes by an exclusive lock on a file beside it
(`<folder>.lock`, kept: an empty file), so two processes that need the same set at once (e.g. two
pytest-xdist workers sharing $HDR_KERAS_CACHE) build it once: the second waits
and then reads the first one's complete copy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator

from absl import logging

from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records
from tfrecords.sources.synthetic_stack import synthetic_stack_records

COMPLETE_MARKER = "COMPLETE"
EVAL_FIRST_SEED = 1_000_000  # held-out scenes never overlap the training seeds


@dataclasses.dataclass(frozen=True)
class BuiltinSingleImageSet:
    """Size of the built-in single-image set (synthetic HDR scenes)."""

    num_train: int = 96
    num_eval: int = 8
    train_size: int = 384
    eval_size: int = 256
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"synthetic-hdr-v1-train{self.num_train}x{self.train_size}"
            f"-eval{self.num_eval}x{self.eval_size}"
        )


def cache_dir() -> Path:
    """Root of hdr-keras' dataset cache."""
    return Path(os.environ.get("HDR_KERAS_CACHE", Path.home() / ".cache" / "hdr_keras"))


@dataclasses.dataclass(frozen=True)
class BuiltinStackSet:
    """Size of the built-in stack set (synthetic dynamic-scene exposure stacks)."""

    num_train: int = 64
    num_eval: int = 8
    train_size: int = 256
    eval_size: int = 256
    num_frames: int = 3
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"synthetic-stack-v1-n{self.num_frames}"
            f"-train{self.num_train}x{self.train_size}"
            f"-eval{self.num_eval}x{self.eval_size}"
        )


@dataclasses.dataclass(frozen=True)
class _Split:
    """One split of a built-in set: its records, shard prefix and shard count."""

    prefix: str
    records: Callable[[], Iterable[bytes]]
    total: int
    num_shards: int
    description: str


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """Holds an exclusive lock on `<folder name>.lock` beside `folder` (blocks until
    free). POSIX `flock`: released by the kernel if the holder dies, so a crashed
    build never leaves a stale lock. Without `fcntl` (Windows) builds are not
    serialised; the staging-and-rename below still keeps every copy complete."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(folder.with_name(f"{folder.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cached(folder: Path, what: str, splits: list[_Split]) -> tuple[str, ...]:
    """Globs of `splits` in `folder`, writing them first unless the folder is complete.

    The splits are written to a staging folder that is renamed into place once its
    marker exists, so an interrupted build is redone. The build runs under
    `_build_lock(folder)` and re-checks the marker once the lock is held: a process
    that waited for another one's build uses that copy, and a complete folder is
    never removed or replaced while others may be reading it.
    """
    if not (folder / COMPLETE_MARKER).exists():
        with _build_lock(folder):
            if not (folder / COMPLETE_MARKER).exists():
                _build(folder, what, splits)
    return tuple(str(folder / f"{split.prefix}-*.tfrecord") for split in splits)


def _build(folder: Path, what: str, splits: list[_Split]) -> None:
    """Writes `splits` to a staging folder and renames it to `folder` (call with
    `_build_lock(folder)` held)."""
    logging.info("Writing the built-in %s to %s (first use)", what, folder)
    staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for split in splits:
            write_sharded(
                split.records(),
                staging,
                split.prefix,
                split.num_shards,
                total=split.total,
                description=split.description,
            )
        (staging / COMPLETE_MARKER).write_text("ok\n")
        if folder.exists():  # an incomplete folder left by an older crash
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except OSError:
        # Renaming onto a non-empty folder fails with EEXIST or ENOTEMPTY: a writer
        # that does not take the lock finished first and its copy is complete.
        # Anything else raises.
        if not (folder / COMPLETE_MARKER).exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def builtin_single_image_data(
    spec: BuiltinSingleImageSet = BuiltinSingleImageSet(), root: Path | None = None
) -> tuple[str, str]:
    """(train glob, eval glob) of the built-in set, writing it on first use."""
    train, evaluation = _cached(
        (root or cache_dir()) / spec.folder_name,
        "synthetic HDR dataset",
        [
            _Split(
                "train",
                lambda: synthetic_hdr_records(
                    spec.num_train, spec.train_size, spec.train_size
                ),
                spec.num_train,
                spec.num_shards,
                "synthetic train scenes",
            ),
            _Split(
                "eval",
                lambda: synthetic_hdr_records(
                    spec.num_eval, spec.eval_size, spec.eval_size, EVAL_FIRST_SEED
                ),
                spec.num_eval,
                1,
                "synthetic eval scenes",
            ),
        ],
    )
    return train, evaluation


def builtin_stack_data(
    spec: BuiltinStackSet = BuiltinStackSet(), root: Path | None = None
) -> tuple[str, str]:
    """(train glob, eval glob) of the built-in stack set, writing it on first use."""
    train, evaluation = _cached(
        (root or cache_dir()) / spec.folder_name,
        "synthetic exposure-stack dataset",
        [
            _Split(
                "train",
                lambda: synthetic_stack_records(
                    spec.num_train,
                    spec.train_size,
                    spec.train_size,
                    0,
                    spec.num_frames,
                ),
                spec.num_train,
                spec.num_shards,
                "synthetic train stacks",
            ),
            _Split(
                "eval",
                lambda: synthetic_stack_records(
                    spec.num_eval,
                    spec.eval_size,
                    spec.eval_size,
                    EVAL_FIRST_SEED,
                    spec.num_frames,
                ),
                spec.num_eval,
                1,
                "synthetic eval stacks",
            ),
        ],
    )
    return train, evaluation


# ------------------------------------------------ Kalantari: aligned training patches
@dataclasses.dataclass(frozen=True)
class BuiltinKalantariPatchSet:
    """The first `num_stacks` training stacks of the built-in stack set, aligned
    with optical flow once and cut into Kalantari's selected 40 x 40 patches
    (`tfrecords.patches`; about 50 per stack); the border is scaled to the
    256-pixel images (13 pixels for the paper's 50 on 1000). Half of the 64 stacks
    by default: the flow alignment costs seconds per stack on a CPU."""

    stacks: BuiltinStackSet = BuiltinStackSet()
    num_stacks: int = 32
    patch_size: int = 40
    stride: int = 20
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"kalantari-patches-v2-flow-{self.num_stacks}"  # v2: median-filtered flow
            f"-p{self.patch_size}s{self.stride}-{self.stacks.folder_name}"
        )


def _serialized(pattern: str) -> Iterable[bytes]:
    """The serialised records of the shards matching `pattern`, in shard order."""
    import tensorflow as tf

    from tfrecords.shards import list_shards

    for record in tf.data.TFRecordDataset(list_shards(pattern)):
        yield record.numpy()


def builtin_kalantari_patch_data(
    spec: BuiltinKalantariPatchSet = BuiltinKalantariPatchSet(),
    root: Path | None = None,
) -> tuple[str, str]:
    """(train glob of aligned patches, eval glob of the raw built-in eval stacks).

    The patches are written on first use from the built-in stack set (written
    first if needed) and cached; evaluation uses the unaligned stacks, since the
    Kalantari serving models align them themselves.
    """
    from tfrecords import patches

    stack_train, stack_eval = builtin_stack_data(spec.stacks, root)

    def records():
        stats = patches.PatchStats()
        stacks = itertools.islice(_serialized(stack_train), spec.num_stacks)
        aligned = patches.align_records(stacks, patches.flow_aligner())
        yield from patches.patch_records(
            aligned, spec.patch_size, spec.stride, stats=stats
        )
        logging.info("Built-in Kalantari patches: %s", stats.summary())

    (train,) = _cached(
        (root or cache_dir()) / spec.folder_name,
        "aligned Kalantari training patches",
        [
            _Split(
                "train",
                records,
                None,
                spec.num_shards,
                "aligning and cutting built-in stacks",
            )
        ],
    )
    return train, stack_eval


# ------------------------------------------- SingleHDR ("liu"): camera shots
@dataclasses.dataclass(frozen=True)
class BuiltinCameraSet:
    """Size of the built-in camera-shot set for method "liu": synthetic HDR scenes
    through SingleHDR's formation model (`tfrecords.sources.camera`), with camera
    curves from the built-in basis (so the set never depends on $HDR_KERAS_EMOR_DIR).
    About 2.6 MB per 256 x 256 shot (three float32 intermediates are stored)."""

    num_train: int = 96
    num_eval: int = 8
    train_size: int = 256
    eval_size: int = 256
    shots_per_scene: int = 1
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"singlehdr-camera-v1-builtin-curves-x{self.shots_per_scene}"
            f"-train{self.num_train}x{self.train_size}"
            f"-eval{self.num_eval}x{self.eval_size}"
        )


def builtin_camera_data(
    spec: BuiltinCameraSet = BuiltinCameraSet(), root: Path | None = None
) -> tuple[str, str]:
    """(train glob, eval glob) of "camera" examples, writing them on first use.

    Training scenes use the seeds of the built-in single-image set, held-out scenes
    its evaluation seeds (EVAL_FIRST_SEED ...); the camera draws are seeded 0 and 1.
    """
    from hdr_keras.ops.crf import builtin_basis
    from tfrecords.sources.camera import camera_shot_records

    def shots(count: int, size: int, first_seed: int, camera_seed: int):
        scenes = synthetic_hdr_records(count, size, size, first_seed)
        return camera_shot_records(
            scenes, builtin_basis(), camera_seed, spec.shots_per_scene
        )

    train, evaluation = _cached(
        (root or cache_dir()) / spec.folder_name,
        "SingleHDR camera-shot dataset",
        [
            _Split(
                "train",
                lambda: shots(spec.num_train, spec.train_size, 0, 0),
                spec.num_train * spec.shots_per_scene,
                spec.num_shards,
                "synthetic camera shots (train)",
            ),
            _Split(
                "eval",
                lambda: shots(spec.num_eval, spec.eval_size, EVAL_FIRST_SEED, 1),
                spec.num_eval * spec.shots_per_scene,
                1,
                "synthetic camera shots (eval)",
            ),
        ],
    )
    return train, evaluation


# ------------------------------------------ HDRCNN pre-training: LDR renderings
@dataclasses.dataclass(frozen=True)
class BuiltinLdrRenderingSet:
    """Built-in stand-in for a folder of plain LDR photos (HDRCNN's pre-training):
    synthetic scenes with seeds of their own (`first_seed`, never the HDR set's
    training or held-out seeds) rendered as 8-bit photos with little saturation
    (`clipped` of the pixels at white, through the sigmoid curve at the virtual
    camera's mean parameters), then linearised exactly as `--source=ldr_folder`
    linearises real photos (`tfrecords.sources.ldr_folder`)."""

    num_train: int = 64
    size: int = 256
    clipped: float = 0.005
    first_seed: int = 2_000_000
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"ldr-renderings-v1-clip{self.clipped:g}-seed{self.first_seed}"
            f"-train{self.num_train}x{self.size}"
        )


def render_ldr_photo(hdr, clipped: float):
    """An 8-bit "photo" of linear `hdr`: the (1 - clipped) percentile of the
    per-pixel channel maximum exposed to white, the sigmoid camera curve at n = 0.9,
    a = 0.6 (the curve `ldr_folder.linearize` inverts), quantised to 1/255."""
    import numpy as np

    from tfrecords.sources.ldr_folder import LINEARIZE_A, LINEARIZE_N

    reference = float(np.quantile(np.max(hdr, axis=-1), 1.0 - clipped)) or 1.0
    exposed = np.clip(hdr / reference, 0.0, 1.0) ** LINEARIZE_N
    display = (1.0 + LINEARIZE_A) * exposed / (exposed + LINEARIZE_A)
    return np.round(display * 255.0).astype(np.float32) / 255.0


def builtin_ldr_rendering_data(
    spec: BuiltinLdrRenderingSet = BuiltinLdrRenderingSet(), root: Path | None = None
) -> str:
    """Train glob of the built-in pre-training records, writing them on first use."""
    from hdr_keras.synthetic.scenes import generate_scene
    from tfrecords.schema import encode_hdr_example
    from tfrecords.sources.ldr_folder import linearize

    def records():
        for seed in range(spec.first_seed, spec.first_seed + spec.num_train):
            photo = render_ldr_photo(
                generate_scene(seed, spec.size, spec.size), spec.clipped
            )
            yield encode_hdr_example(linearize(photo), f"ldr-rendering-{seed:07d}")

    (train,) = _cached(
        (root or cache_dir()) / spec.folder_name,
        "LDR renderings for pre-training",
        [
            _Split(
                "train",
                records,
                spec.num_train,
                spec.num_shards,
                "rendering LDR photos",
            )
        ],
    )
    return train
