"""Command line: `python -m densenet_demo {summary,train} ...` (see `cli.py`)."""

import sys

from .cli import main

sys.exit(main())
