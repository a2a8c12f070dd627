"""`python -m serving.server`: see `serving.server.model_server.main`."""

from serving.server.model_server import main

if __name__ == "__main__":
    main()
