"""The one user-error type and exit-code convention of every hdr-keras command.

Every command-line program (`training.main`, `training.evaluate`, `tfrecords.make`,
`serving.export`, `serving.predict`, `serving.server`, `serving.client`) follows it:

- exit 0: done;
- exit 1 (`EXIT_USER_ERROR`): the run was refused or stopped by the user's input (a
  flag value, a missing or corrupt file, data of the wrong kind). One line
  ``error: <what, naming the flag, file or tensor>`` goes to stderr, no traceback,
  and nothing already written is lost;
- exit 2 (`EXIT_USAGE`): the command line itself is malformed (unknown flag, missing
  required flag), as argparse and absl report it.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Callable, TypeVar

from hdr_keras.io.errors import ImageIOError

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2


class UserError(Exception):
    """A problem with the flags or the data, reported as one line, no traceback.

    Subclassed by the apps' specific errors (e.g. `tfrecords.errors.CorruptShardError`)
    so that every program reports them the same way.
    """


# Exceptions every program reports as a user error: the library's image errors name
# their file, and a missing file names its path.
USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    ImageIOError,
    FileNotFoundError,
)

T = TypeVar("T")


def run_reporting_errors(function: Callable[..., T], *args, **kwargs) -> int:
    """Calls `function(*args, **kwargs)`; returns the exit code of the convention.

    A `USER_ERRORS` exception prints ``error: <message>`` on stderr and gives
    `EXIT_USER_ERROR`; success gives `EXIT_OK`.
    """
    try:
        function(*args, **kwargs)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK
