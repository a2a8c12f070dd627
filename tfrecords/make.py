"""Writes sharded TFRecords from a data source.

    python -m tfrecords.make --source=synthetic --out=DIR --num_shards=4 --num_scenes=200
    python -m tfrecords.make --source=hdr_folder --input=DIR --out=DIR --num_shards=8
    python -m tfrecords.make --source=synthetic_stack --out=DIR --num_scenes=64
    python -m tfrecords.make --source=kalantari --input=SIGGRAPH17/Training --out=DIR
    python -m tfrecords.make --source=ldr_folder --input=PHOTOS --out=DIR --max_saturated=0.01

Sources:
  synthetic        procedural HDR scenes (hdr_keras.synthetic), seeds --first_seed..
  hdr_folder       every .hdr / .pic / .exr below --input (linear HDR images)
  ldr_folder       every .jpg / .png / .tif below --input: LDR photos linearised by
                   HDRCNN's inverse camera curve (pre-training data, see
                   tfrecords/sources/ldr_folder.py); photos with more than
                   --max_saturated saturated pixels, a shorter side below --min_side
                   or that cannot be decoded are skipped, named and counted
  synthetic_stack  dynamic-scene exposure stacks (hdr_keras.synthetic.stacks),
                   --num_frames frames each, seeds --first_seed..
  kalantari        Kalantari's SIGGRAPH17 layout: --input is a scene folder (TIFFs,
                   exposure.txt, HDRImg.hdr) or any folder above scene folders;
                   --align=homography aligns the frames' backgrounds first
Stack sources (synthetic_stack, kalantari) also take --align=flow (optical flow to
the reference frame, `hdr_keras.ops.flow`, as Kalantari & Ramamoorthi 2017) and
--patches (cut the aligned stacks into Kalantari's selected 40x40 training patches,
stride 20, 50 px border on a 1000 px short side: tfrecords/patches.py):
    python -m tfrecords.make --source=kalantari --input=SIGGRAPH17/Training \
        --out=DIR --align=flow --patches
Each writes `<out>/<prefix>-0000i-of-0000N.tfrecord`: "hdr" examples for synthetic,
hdr_folder and ldr_folder (single-image methods simulate the LDR input when
training), "stack" examples for synthetic_stack and kalantari (schema in
tfrecords/schema.py).
With --kind=camera, the HDR sources (synthetic, hdr_folder) write "camera" examples
instead: --shots_per_image shots of SingleHDR's formation model per image (method
"liu"), curves from --emor_dir, else $HDR_KERAS_EMOR_DIR, else the built-in basis:
    python -m tfrecords.make --source=hdr_folder --kind=camera --input=DIR --out=DIR
"""

from __future__ import annotations


from absl import app, flags

from tfrecords.shards import write_sharded
from tfrecords.sources.hdr_folder import find_hdr_files, hdr_folder_records
from tfrecords.sources import ldr_folder
from tfrecords.sources.kalantari import (
    ALIGN_MODES,
    find_kalantari_scenes,
    kalantari_records,
    make_aligner,
)
from tfrecords.sources.synthetic import synthetic_hdr_records
from tfrecords.sources.synthetic_stack import synthetic_stack_records

SOURCES = ("synthetic", "hdr_folder", "synthetic_stack", "kalantari", "ldr_folder")
STACK_SOURCES = ("synthetic_stack", "kalantari")

FLAGS = flags.FLAGS
flags.DEFINE_enum("source", None, SOURCES, "Data source to convert.")
flags.DEFINE_string("input", None, "Input folder (hdr_folder, kalantari, ldr_folder).")
flags.DEFINE_string("out", None, "Output folder for the shards.")
flags.DEFINE_integer("num_shards", 4, "Number of output shards.", lower_bound=1)
flags.DEFINE_string("prefix", "train", "Shard file name prefix, e.g. train or eval.")
flags.DEFINE_integer(
    "num_scenes", 96, "synthetic, synthetic_stack: number of scenes.", lower_bound=1
)
flags.DEFINE_integer(
    "size",
    384,
    "synthetic, synthetic_stack: scene height and width in pixels.",
    lower_bound=32,
)
flags.DEFINE_integer(
    "first_seed", 0, "synthetic, synthetic_stack: seed of the first scene."
)
flags.DEFINE_integer(
    "num_frames",
    3,
    "synthetic_stack: frames per stack; kalantari: TIFFs expected per scene.",
    lower_bound=2,
)
flags.DEFINE_integer(
    "max_side",
    0,
    "hdr_folder, ldr_folder: downscale images whose longer side exceeds this (0: keep).",
)
flags.DEFINE_float(
    "max_saturated",
    ldr_folder.DEFAULT_MAX_SATURATED,
    "ldr_folder: skip photos with more than this fraction of saturated pixels.",
    lower_bound=0.0,
    upper_bound=1.0,
)
flags.DEFINE_integer(
    "min_side",
    ldr_folder.DEFAULT_MIN_SIDE,
    "ldr_folder: skip photos whose shorter side is below this many pixels.",
    lower_bound=1,
)
flags.DEFINE_enum(
    "align",
    "none",
    (*ALIGN_MODES, "flow"),
    "kalantari: align each frame's background to the reference frame before "
    "writing (homography: feature-matched homography, as Wu et al. 2018 do); "
    "kalantari, synthetic_stack: flow = dense optical flow (Kalantari 2017).",
)
flags.DEFINE_bool(
    "patches",
    False,
    "synthetic_stack, kalantari: write Kalantari's selected 40x40 training "
    "patches (stride 20, scaled 50 px border) instead of whole stacks.",
)
flags.DEFINE_enum(
    "kind",
    "hdr",
    ("hdr", "camera"),
    "synthetic, hdr_folder: write HDR images (hdr) or SingleHDR camera shots with "
    "every intermediate (camera, for --method=liu).",
)
flags.DEFINE_integer(
    "shots_per_image", 1, "--kind=camera: camera shots per HDR image.", lower_bound=1
)
flags.DEFINE_integer(
    "camera_seed", 0, "--kind=camera: seed of the camera draws (exposure, curve...)."
)
flags.DEFINE_string(
    "emor_dir",
    None,
    "--kind=camera: folder with emor.txt / invemor.txt for the camera curves "
    "(default: $HDR_KERAS_EMOR_DIR, else the built-in curve basis).",
)
# --source and --out are required, checked in main() rather than with absl's
# mark_flags_as_required: its validators are global and would fail every other
# absl program (training.main) parsed in the same Python process.
REQUIRED_FLAGS = ("source", "out")


def write(source: str) -> None:
    """Writes the shards of `source` as the flags describe."""
    if FLAGS.align == "homography" and source != "kalantari":
        raise app.UsageError("--align=homography applies to --source=kalantari only")
    if (FLAGS.align == "flow" or FLAGS.patches) and source not in STACK_SOURCES:
        raise app.UsageError(
            "--align=flow and --patches apply to --source=synthetic_stack or "
            "kalantari only"
        )
    flow = None
    if FLAGS.align == "flow":
        from tfrecords.patches import flow_aligner

        flow = flow_aligner()
    if source == "synthetic":
        records = synthetic_hdr_records(
            FLAGS.num_scenes, FLAGS.size, FLAGS.size, FLAGS.first_seed
        )
        total = FLAGS.num_scenes
    elif source == "synthetic_stack":
        records = synthetic_stack_records(
            FLAGS.num_scenes, FLAGS.size, FLAGS.size, FLAGS.first_seed, FLAGS.num_frames
        )
        total = FLAGS.num_scenes
        if flow is not None:
            from tfrecords.patches import align_records

            records = align_records(records, flow)
    elif source == "kalantari":
        if not FLAGS.input:
            raise app.UsageError("--input=DIR is required with --source=kalantari")
        scenes = find_kalantari_scenes(FLAGS.input, FLAGS.num_frames)
        aligner = flow if flow is not None else make_aligner(FLAGS.align)
        records = kalantari_records(scenes, aligner)
        total = len(scenes)
    elif source == "ldr_folder":
        if not FLAGS.input:
            raise app.UsageError("--input=DIR is required with --source=ldr_folder")
        files = ldr_folder.find_ldr_files(FLAGS.input)
        ldr_stats = ldr_folder.LdrFolderStats()
        records = ldr_folder.ldr_folder_records(
            files,
            ldr_stats,
            FLAGS.max_saturated,
            FLAGS.min_side,
            FLAGS.max_side or None,
        )
        total = len(files)
    else:
        if not FLAGS.input:
            raise app.UsageError("--input=DIR is required with --source=hdr_folder")
        files = find_hdr_files(FLAGS.input)
        records = hdr_folder_records(files, FLAGS.max_side or None)
        total = len(files)
    if FLAGS.kind == "camera":
        records, total = _camera_shots(source, records, total)
    stats = None
    if FLAGS.patches:
        from tfrecords.patches import PatchStats, patch_records

        stats = PatchStats()
        records, total = patch_records(records, stats=stats), None
    paths = write_sharded(
        records,
        FLAGS.out,
        FLAGS.prefix,
        FLAGS.num_shards,
        total=total,
        description=FLAGS.source,
    )
    if stats is not None:
        total = stats.selected + stats.fallback
        print(stats.summary())
    if source == "ldr_folder":
        total = ldr_stats.written
        print(ldr_stats.summary())
        if not total:
            for path in paths:
                path.unlink()
            raise ValueError(f"no photo below {FLAGS.input} passed the checks")
    print(
        f"wrote {total} examples to {len(paths)} shards: {paths[0].parent}/{FLAGS.prefix}-*"
    )


def _camera_shots(source: str, records, total: int):
    """--kind=camera: "hdr" examples -> SingleHDR camera shots (and their count)."""
    if source in STACK_SOURCES:
        raise app.UsageError(
            "--kind=camera applies to --source=synthetic or hdr_folder only"
        )
    from hdr_keras.ops.crf import default_basis
    from tfrecords.sources.camera import camera_shot_records

    basis = default_basis(FLAGS.emor_dir)
    print(f"camera curves: {basis.source} basis")
    shots = camera_shot_records(
        records, basis, FLAGS.camera_seed, FLAGS.shots_per_image
    )
    return shots, total * FLAGS.shots_per_image


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    missing = [f"--{name}" for name in REQUIRED_FLAGS if not FLAGS[name].value]
    if missing:
        raise app.UsageError(f"{' and '.join(missing)} required")
    from hdr_keras.errors import UserError, run_reporting_errors

    def run() -> None:
        try:
            write(FLAGS.source)
        except ValueError as error:  # ImageIOError, CorruptShardError included
            raise UserError(str(error)) from None

    # Exit codes as every hdr-keras command (hdr_keras.errors): 0, 1 user error.
    return run_reporting_errors(run)


if __name__ == "__main__":
    app.run(main)
