"""`python -m helpmig_tui` is `helpmig`."""

import sys

from helpmig_tui.cli import main

sys.exit(main())
