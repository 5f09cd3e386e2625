"""``python -m qtn.cli``: the ``qtn`` command."""

import sys

from . import main

sys.exit(main())
