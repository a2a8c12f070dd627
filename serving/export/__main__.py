"""`python -m serving.export`: see `serving.export.savedmodel.main`.

Exit codes as every hdr-keras command (`hdr_keras.errors`): 0 done, 1 user error
(one line on stderr naming the file or flag), 2 malformed command line.
"""

import sys

from serving.export.savedmodel import main


def _run() -> None:
    from hdr_keras.errors import UserError

    try:
        main()
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as error:  # names the file, flag or version
        raise UserError(str(error)) from None


if __name__ == "__main__":
    from hdr_keras.errors import run_reporting_errors

    sys.exit(run_reporting_errors(_run))
