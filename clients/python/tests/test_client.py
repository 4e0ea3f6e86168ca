"""The Python client against a real downline server that the test starts.

Needs DOWNLINE_BIN (the server binary) and the package: installed
(``pip install clients/python``, what the Rust test tests/api/python_client.rs
does in a venv) or generated in place (``python generate.py``).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal

import grpc

HERE = pathlib.Path(__file__).resolve().parent
# After what is installed: the package's own sources, for a run after
# `python generate.py` without an install.
sys.path.append(str(HERE.parent / "src"))

from downline.v1 import genealogy_pb2 as g  # noqa: E402
from downline.v1 import volume_pb2 as v  # noqa: E402
from downline_client import amount, connect, pages  # noqa: E402


def new_key(binary: str) -> tuple[str, str]:
    """A fresh backend API key and its keys-file line, from `downline keys new`."""
    out = subprocess.run(
        [binary, "keys", "new", "--role", "backend", "--name", "python-client"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return out[0].strip(), out[1].strip()


class Server:
    """`downline serve` on 127.0.0.1:0 with one backend key, in a fresh data directory."""

    def __init__(self, binary: str) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.key, line = new_key(binary)
        keys = pathlib.Path(self.dir.name) / "keys.txt"
        keys.write_text(line + "\n")
        data = pathlib.Path(self.dir.name) / "data"
        args = [binary, "serve", "--data-dir", str(data), "--listen", "127.0.0.1:0", "--keys-file", str(keys)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        if not first.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the server did not start: {first!r}")
        self.target = first.removeprefix("listening on ")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.dir.cleanup()


class ClientAgainstARealServer(unittest.TestCase):
    server: Server

    @classmethod
    def setUpClass(cls) -> None:
        binary = os.environ.get("DOWNLINE_BIN")
        if not binary:
            raise unittest.SkipTest("DOWNLINE_BIN is not set (run through `cargo test --release`)")
        cls.server = Server(binary)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def test_the_example_creates_partners_records_orders_and_reads_volumes(self) -> None:
        example = HERE.parent / "examples" / "quickstart.py"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        for _ in range(2):  # the second run retries every write: nothing counts twice
            run = subprocess.run(
                [sys.executable, str(example), self.server.target, self.server.key],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            self.assertEqual(run.returncode, 0, run.stderr)
        lines = run.stdout.splitlines()
        self.assertIn("py-root: PV=40.00 GV=225.50 L1=125.50 L2=60.00", lines)
        self.assertIn("py-a: PV=100.00 GV=160.00 L1=60.00", lines)
        self.assertIn("downline of py-root: py-a@1 py-b@1 py-a1@2", lines)
        with connect(self.server.target, self.server.key) as dl:
            root = dl.volumes.GetVolumes(v.GetVolumesRequest(partner_id="py-root", period="2026-12"))
            self.assertEqual(amount(root.gv), Decimal("225.50"))
            self.assertEqual([amount(lv.volume) for lv in root.levels][:2], [Decimal("125.50"), Decimal("60.00")])

    def test_paging_visits_every_member_once_whatever_the_page_size(self) -> None:
        with connect(self.server.target, self.server.key) as dl:
            dl.genealogy.CreatePartner(g.CreatePartnerRequest(partner_id="pg-root", joined_on="2026-12-01"))
            ids = [f"pg-{i:02}" for i in range(23)]
            for partner_id in ids:
                request = g.CreatePartnerRequest(partner_id=partner_id, sponsor_id="pg-root", joined_on="2026-12-01")
                dl.genealogy.CreatePartner(request)
            request = g.ListDownlineRequest(partner_id="pg-root")
            for size in (1, 5, 23, 100):
                seen = [m.partner.partner_id for m in pages(dl.genealogy.ListDownline, request, "members", size)]
                self.assertEqual(sorted(seen), ids, f"page size {size}")
            self.assertEqual(request.page_size, 0, "the caller's request is left unchanged")

    def test_a_missing_or_wrong_token_is_unauthenticated(self) -> None:
        for token in (None, "dl_not-a-key"):
            with connect(self.server.target, token) as dl:
                with self.assertRaises(grpc.RpcError) as refused:
                    dl.genealogy.GetPartner(g.GetPartnerRequest(partner_id="py-root"))
                self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(ValueError):
            connect(self.server.target, "has space")

    def test_a_bad_input_names_the_field(self) -> None:
        with connect(self.server.target, self.server.key) as dl:
            order = v.Order(order_id="bad-1", partner_id="py-root", period="2026-12", volume="1.2.3", kind=v.ORDER_KIND_RETAIL)
            with self.assertRaises(grpc.RpcError) as refused:
                dl.volumes.RecordOrder(v.RecordOrderRequest(order=order))
            self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("volume", refused.exception.details())


if __name__ == "__main__":
    unittest.main()
