"""`python -m serving.export`: see `serving.export.savedmodel.main`."""

from serving.export.savedmodel import main

if __name__ == "__main__":
    main()
