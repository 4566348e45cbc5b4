"""``python -m fastconv.bench``: see ``fastconv.bench.cli``."""
import sys

from .cli import main

sys.exit(main())
