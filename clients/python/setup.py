"""Builds the package; the API modules are generated from proto/ first (see generate.py).

setuptools checks the package directories before any build step runs, so
the generation happens when this file is executed, with the grpcio-tools
that pyproject.toml's build requirements install.
"""

import pathlib
import sys

from setuptools import setup

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import generate  # noqa: E402

generate.generate()
setup()
