"""``python -m agentchain.cli``: the ``agentchain`` command."""

import sys

from agentchain.cli import main

sys.exit(main())
