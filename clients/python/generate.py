"""Generates the Python modules of downline's API from the repository's proto/.

grpcio-tools compiles every ``proto/downline/v1/*.proto`` into ``src/downline/v1``
(messages, type stubs and gRPC stubs). The generated code is never checked in:
``pip install clients/python`` runs this at build time (see ``setup.py``), and the
tests run it before they import the package.

Usage: ``python generate.py [OUT_DIR]`` (default: ``src`` beside this file).
"""

from __future__ import annotations

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
PROTO_DIR = HERE.parent.parent / "proto"
OUT_DIR = HERE / "src"


def generate(out_dir: pathlib.Path = OUT_DIR, proto_dir: pathlib.Path = PROTO_DIR) -> list[str]:
    """Compiles the API's protos into ``out_dir``; returns the proto files compiled."""
    import grpc_tools
    from grpc_tools import protoc

    files = sorted(str(p.relative_to(proto_dir)) for p in (proto_dir / "downline" / "v1").glob("*.proto"))
    if not files:
        raise SystemExit(f"no .proto files under {proto_dir / 'downline' / 'v1'}")
    well_known = pathlib.Path(grpc_tools.__file__).resolve().parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{proto_dir}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("grpc_tools.protoc failed (its message is above)")
    # Regular packages, so that `downline.v1` imports without namespace magic.
    for package in (out_dir / "downline", out_dir / "downline" / "v1"):
        (package / "__init__.py").touch()
    return files


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    compiled = generate(target)
    print(f"generated {len(compiled)} proto files into {target}")
