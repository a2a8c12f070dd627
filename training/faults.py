"""A test hook that SIGKILLs training at a chosen moment (crash-resume tests).

    HDR_KERAS_TEST_KILL_AT=step:3          after step 3 and its checkpoint
    HDR_KERAS_TEST_KILL_AT=checkpoint:3    while writing the checkpoint of step 3
    HDR_KERAS_TEST_KILL_AT=preview:1       while writing the previews of epoch 1
                                           (epochs numbered from 1, as the PNGs)
    HDR_KERAS_TEST_KILL_AT=checkpoint:3@b  the same, in the stage named b only

The variable is read here only (`armed`); unset, nothing happens. The process kills
itself with SIGKILL (no cleanup, no flush), as an out-of-memory killer or a
preempted machine would. tests/training/test_resume.py uses it.
"""

from __future__ import annotations

import os
import signal
import sys

VARIABLE = "HDR_KERAS_TEST_KILL_AT"
PHASES = ("step", "checkpoint", "preview")

_stage: str | None = None


def set_stage(name: str | None) -> None:
    """The stage being trained (for `phase:N@stage` kill points)."""
    global _stage
    _stage = name


def armed(phase: str, number: int) -> bool:
    """Whether the kill point `phase:number` (in the current stage) is set."""
    value = os.environ.get(VARIABLE)
    if not value:
        return False
    point, _, stage = value.partition("@")
    want_phase, _, want_number = point.partition(":")
    if want_phase not in PHASES or not want_number.isdigit():
        raise ValueError(
            f"{VARIABLE}={value!r}: expected <{'|'.join(PHASES)}>:<n>[@stage]"
        )
    if stage and stage != _stage:
        return False
    return want_phase == phase and int(want_number) == number


def kill(phase: str, number: int) -> None:
    """SIGKILLs this process, after saying where (the tests read the line)."""
    print(f"{VARIABLE}: killing at {phase}:{number}", flush=True)
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
