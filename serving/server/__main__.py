"""`python -m serving.server`: see `serving.server.cli.main`."""

from serving.server.cli import main

if __name__ == "__main__":
    main()
