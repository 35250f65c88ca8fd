#!/usr/bin/python3
"""Entry point installed as /opt/sbx-runner/run.py (see docs/strategy.md)."""
import os
import sys

# Run as a script, sys.path[0] is this directory already; keep it explicit
# for `python3 -I` (isolated mode), which leaves the script's directory out.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbx_runner.main import main  # noqa: E402

sys.exit(main())
