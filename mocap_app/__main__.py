"""``python -m mocap_app`` is the same as the ``mocap`` command."""

import sys

from .cli import main

sys.exit(main())
