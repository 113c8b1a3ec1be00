"""Hypothesis' entry point for agentchain: registers the strategies of :mod:`agentchain.testing`.

Hypothesis calls :func:`_hypothesis_setup_hook` while it is itself being imported. When that
import comes from ``import agentchain.testing``, the module is half initialised at that moment;
so the hook lives here, imports nothing of the package at module level, and leaves a module
already being imported alone: :mod:`agentchain.testing` registers its strategies as its last
step, whichever of the two was imported first.
"""

from __future__ import annotations

import importlib
import sys


def _hypothesis_setup_hook() -> None:
    """Make ``st.from_type(Presentation)`` and the like work (called by hypothesis)."""
    if "agentchain.testing" in sys.modules:
        return  # imported, or being imported: it registers at its end
    importlib.import_module("agentchain.testing")
