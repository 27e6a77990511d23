"""Run the flowql command line: ``python -m flowql``."""

import sys

from flowql.cli import main

sys.exit(main())
