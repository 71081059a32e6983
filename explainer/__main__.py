"""`python -m explainer`: the command line (explainer/cli/)."""

import sys

from explainer.cli import main

if __name__ == "__main__":
    sys.exit(main())
