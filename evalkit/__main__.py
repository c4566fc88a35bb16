"""``python -m evalkit``: the command line (see :mod:`evalkit.cli`)."""

from evalkit.cli import main

if __name__ == "__main__":
    main()
