"""``python -m lab`` is the ``tinygrad-hw`` command."""

import sys

from .cli import main

sys.exit(main())
