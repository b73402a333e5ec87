"""`python -m symbiote_core.figures ...`: see `cli.py`."""

import sys

from symbiote_core.figures.cli import main

if __name__ == "__main__":
    sys.exit(main())
