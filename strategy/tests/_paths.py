"""Paths shared by the strategy tests; importing it makes the runner and the
wrapper importable."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUNNER_DIR = os.path.join(REPO, "strategy", "runner")
RUNNER = os.path.join(RUNNER_DIR, "run.py")
WRAPPER_DIR = os.path.join(REPO, "strategy", "wrapper")
EXAMPLES = os.path.join(REPO, "strategy", "examples")
# The example strategies; autonomous_loop.py beside them is the research
# loop (host side), not a strategy.
EXAMPLE_STRATEGIES = sorted(n for n in os.listdir(EXAMPLES)
                            if n.endswith(".py") and n != "autonomous_loop.py")
DATA_EU = os.path.join(REPO, "strategy", "data", "eu")
DATA_XTS = os.path.join(REPO, "strategy", "data", "xts")
CONFIG_EXAMPLE = os.path.join(REPO, "config", "learning_system.example.yaml")
BUILD = os.environ.get("SBX_BUILD", os.path.join(REPO, "build"))
if not os.path.isabs(BUILD):
    BUILD = os.path.join(REPO, BUILD)
# The test rootfs does not depend on the build directory (tests/module.mk).
ROOTFS = os.path.join(REPO, "build", "rootfs")
# The interpreter that has pandas (Debian's), for the bare runner.
PYTHON = sys.executable

for d in (RUNNER_DIR, WRAPPER_DIR):
    if d not in sys.path:
        sys.path.insert(0, d)
