"""Shared helpers for the Python tests: paths from the environment, failing loudly."""
import os
import subprocess
import sys

SOURCE_DIR = os.environ.get("RF_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("RF_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
TESTDATA = os.environ.get("RF_TESTDATA", os.path.join(SOURCE_DIR, "..", "shared", "testdata"))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def tool(name):
    """Path of a built test tool (tests/tools/NAME.c) or the rocmforge command."""
    p = os.path.join(BUILD_DIR, "rocmforge") if name == "rocmforge" else os.path.join(BUILD_DIR, "tests", name)
    if not os.path.exists(p):
        fail(f"{p} not built")
    return p


def test_model():
    """The SmolLM2 model; the test fails (never skips) when it is missing."""
    p = os.environ.get("RF_TEST_MODEL", "")
    if not p or not os.path.exists(p):
        fail("RF_TEST_MODEL is not set or missing: run scripts/fetch-model.sh (scripts/test.sh sets it)")
    return p


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


def need(module):
    try:
        return __import__(module)
    except ImportError:
        fail(f"python module '{module}' is required (scripts/deps.sh installs it)")
