"""`benchmarks.flow_accuracy --reference_flow=CMD`: the raw-file protocol, its errors,
and the external method's EPE column, with tiny Python scripts as CMD."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

# Each script is run as: python SCRIPT [ARGS...] REFERENCE MOVING OUTPUT, and parses
# the files on its own (not with the module's helpers), so the tests check the
# protocol as documented: int32 (H, W, C) little-endian, then float32 row-major HWC.
_READ = """
import sys
import numpy as np

def read(path):
    data = open(path, "rb").read()
    h, w, c = np.frombuffer(data[:12], "<i4")
    return np.frombuffer(data[12:], "<f4").reshape(h, w, c)

def write(path, array):
    with open(path, "wb") as file:
        file.write(np.array(array.shape, "<i4").tobytes())
        file.write(np.ascontiguousarray(array, "<f4").tobytes())

reference, moving = read(sys.argv[-3]), read(sys.argv[-2])
"""

SCRIPTS = {
    # (dy, dx) = (red of the reference, blue of the moving image): shows which file
    # is which and that channels and pixels are where the protocol says.
    "probe": "write(sys.argv[-1], np.stack([reference[..., 0], moving[..., 2]], -1))",
    # a flow file given as the first argument, offset by (dy, dx) = argv[2:4]
    "copy": "write(sys.argv[-1], read(sys.argv[1]) + np.array(sys.argv[2:4], 'f4'))",
    "zero": "write(sys.argv[-1], np.zeros(reference.shape[:2] + (2,), 'f4'))",
    "fail": "sys.stderr.write('solver diverged at level 3\\n'); sys.exit(3)",
    "silent": "pass",
    "truncated": "open(sys.argv[-1], 'wb').write(np.array([4, 5, 2], '<i4').tobytes())",
    "one_channel": "write(sys.argv[-1], reference[..., :1])",
    "nan": "write(sys.argv[-1], np.full(reference.shape[:2] + (2,), np.nan, 'f4'))",
}


@pytest.fixture
def fa(monkeypatch):
    """The `benchmarks.flow_accuracy` module (benchmarks/ is not installed)."""
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.flow_accuracy

    return benchmarks.flow_accuracy


@pytest.fixture
def script(tmp_path):
    """script(name, *args) -> the command list running SCRIPTS[name]."""

    def make(name, *args):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(_READ) + SCRIPTS[name] + "\n")
        return [sys.executable, str(path), *map(str, args)]

    return make


def _images(height=6, width=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((2, height, width, 3), dtype=np.float32)


def test_raw_file_layout_and_round_trip(fa, tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) / 7
    path = tmp_path / "a.f32"
    fa.write_raw(path, array)
    data = path.read_bytes()
    assert len(data) == 12 + array.size * 4
    assert np.frombuffer(data[:12], "<i4").tolist() == [2, 3, 4]
    np.testing.assert_array_equal(np.frombuffer(data[12:], "<f4"), array.ravel())
    back = fa.read_raw(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize(
    "content, message",
    [
        (np.array([2, 3], "<i4").tobytes(), r"8 bytes, shorter than the int32 \[H, W"),
        (np.array([2, 0, 1], "<i4").tobytes(), r"\[2, 0, 1\] is not positive"),
        (
            np.array([2, 3, 2], "<i4").tobytes() + bytes(4 * 11),
            r"\[2, 3, 2\] needs 60 bytes of float32, the file has 56",
        ),
        (
            np.array([1, 1, 1], "<i4").tobytes() + bytes(8),
            r"\[1, 1, 1\] needs 16 bytes of float32, the file has 20",
        ),
    ],
)
def test_read_raw_names_the_file_of_a_bad_header_or_size(
    fa, tmp_path, content, message
):
    path = tmp_path / "bad.f32"
    path.write_bytes(content)
    with pytest.raises(fa.ReferenceFlowError, match=re.escape(str(path))) as error:
        fa.read_raw(path)
    assert re.search(message, str(error.value))


def test_command_gets_reference_then_moving_as_float_rgb(fa, script):
    reference, moving = _images()
    flow, seconds = fa.reference_flow(script("probe"), reference, moving)
    assert flow.shape == (6, 7, 2) and flow.dtype == np.float32
    np.testing.assert_array_equal(flow[..., 0], reference[..., 0])
    np.testing.assert_array_equal(flow[..., 1], moving[..., 2])
    assert seconds > 0


def test_true_flow_through_the_hook_has_zero_epe(fa, script, tmp_path):
    rng = np.random.default_rng(1)
    reference, moving, truth, valid = fa.smooth_pair(rng, 100, 40, 56)
    assert valid.sum() > 100
    truth_file = tmp_path / "truth.f32"
    fa.write_raw(truth_file, truth)
    flow, _ = fa.reference_flow(script("copy", truth_file, 0, 0), reference, moving)
    # Only float32 rounding of flows of at most MAX_MOTION px separates them.
    bound = float(fa.MAX_MOTION * np.finfo(np.float32).eps)
    assert fa.epe(flow, truth, valid) <= bound
    # A constant error of (0.3, -0.4) px has an end-point error of 0.5 px everywhere.
    flow, _ = fa.reference_flow(
        script("copy", truth_file, 0.3, -0.4), reference, moving
    )
    assert fa.epe(flow, truth, valid) == pytest.approx(0.5, abs=10 * bound)


def test_failing_command_reports_its_exit_code_and_stderr(fa, script):
    with pytest.raises(fa.ReferenceFlowError) as error:
        fa.reference_flow(script("fail"), *_images())
    assert "exited with code 3" in str(error.value)
    assert "solver diverged at level 3" in str(error.value)


@pytest.mark.parametrize(
    "name, message",
    [
        ("silent", r"exited with 0 but did not write the output flow \S*flow\.f32"),
        ("truncated", r"flow\.f32: header \[H, W, C\] = \[4, 5, 2\] needs 172 bytes"),
        ("one_channel", r"shape \[6, 7, 1\] to \S*flow\.f32; expected \[6, 7, 2\]"),
        ("nan", r"non-finite values to \S*flow\.f32"),
    ],
)
def test_bad_output_names_the_flow_file(fa, script, name, message):
    with pytest.raises(fa.ReferenceFlowError, match=message):
        fa.reference_flow(script(name), *_images())


def test_missing_program_and_empty_command(fa, tmp_path, capsys):
    missing = tmp_path / "no such flow"
    with pytest.raises(fa.ReferenceFlowError, match="cannot run '.*no such flow'"):
        fa.reference_flow([str(missing)], *_images())
    with pytest.raises(SystemExit) as exit_:
        fa._parse_args(["--reference_flow= "])
    assert exit_.value.code == 2
    assert "--reference_flow: empty command" in capsys.readouterr().err


def test_command_is_split_like_a_shell_line(fa, script, tmp_path):
    folder = tmp_path / "with space"
    folder.mkdir()
    fa.write_raw(folder / "truth.f32", np.ones((6, 7, 2), np.float32))
    command = script("copy", folder / "truth.f32", 1, 2)
    line = " ".join(f"'{part}'" for part in command)
    args = fa._parse_args([f"--reference_flow={line}", "--reference_name=C++"])
    assert args.reference_flow == command and args.reference_name == "C++"
    flow, _ = fa.reference_flow(args.reference_flow, *_images())
    np.testing.assert_array_equal(flow, np.broadcast_to([2.0, 3.0], (6, 7, 2)))


def test_main_stops_with_a_user_error_when_the_command_fails(fa, script, capsys):
    from hdr_keras.errors import EXIT_USER_ERROR, run_reporting_errors

    line = " ".join(script("fail"))
    argv = ["--pairs=1", "--height=32", "--width=40", f"--reference_flow={line}"]
    assert run_reporting_errors(fa.main, argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: --reference_flow: ") and "solver diverged" in err


@pytest.mark.slow
def test_main_prints_the_hook_epe_beside_ours(fa, script, capsys):
    """A zero-flow hook: its EPE column equals the 'EPE 0' column of every pair."""
    line = " ".join(script("zero"))
    fa.main(
        [
            "--pairs=1",
            "--height=40",
            "--width=56",
            f"--reference_flow={line}",
            "--reference_name=zeros",
        ]
    )
    out = capsys.readouterr().out
    assert re.search(r"EPE ours\s+EPE DIS\s+EPE zeros\s+EPE 0", out)
    row = r"^(smooth|object)-0 +(\S+) +(\S+) +(\S+) +(\S+) +(\S+)$"
    rows = re.findall(row, out, re.M)
    assert [row[0] for row in rows] == ["smooth", "object"]
    for _, motion, ours, dis, hook, zero in rows:
        # the same figure, printed to 3 and to 2 decimals
        assert abs(float(hook) - float(zero)) <= 0.0055
        assert float(zero) > 0.1 and float(ours) < float(zero)
    means = re.findall(r"mean EPE (\w+): ours \S+ px, DIS \S+ px, zeros (\S+) px", out)
    assert [kind for kind, _ in means] == ["smooth", "object"]
    assert re.search(r"DIS \S+ s/MP, zeros \d+\.\d\d s/MP \(wall time", out)
