"""``python -m verify``: see :mod:`verify.cli`."""

import sys

from verify.cli import main

sys.exit(main())
