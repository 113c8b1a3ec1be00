"""``python -m agentchain``: the same as the ``agentchain`` command."""

import sys

from agentchain.cli import main

sys.exit(main())
