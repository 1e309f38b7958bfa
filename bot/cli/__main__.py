"""`python -m bot.cli`: the `jamaah` command."""

import sys

from bot.cli import main

sys.exit(main())
