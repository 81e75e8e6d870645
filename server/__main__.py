"""``python -m reactive_server``."""

import sys

from .app import main

sys.exit(main())
