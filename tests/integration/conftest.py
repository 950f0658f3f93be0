"""Shared fixtures for the end-to-end suites: see tests/lib/fxharness.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from fxharness import admin, fxd  # noqa: E402,F401  (pytest fixtures)
