"""Creates a small network, records orders and reads the volumes back.

Usage: python examples/quickstart.py [HOST:PORT] [TOKEN]
(defaults: 127.0.0.1:50051, no token: a server in dev mode; or
DOWNLINE_TARGET / DOWNLINE_TOKEN). Prints each partner's PV, GV and
level volumes for the period, and the root's downline. Running it twice
is harmless: creations and orders are idempotent by id.
"""

from __future__ import annotations

import os
import sys

from downline.v1 import genealogy_pb2 as g
from downline.v1 import volume_pb2 as v
from downline_client import amount, connect, pages

PERIOD = "2026-12"
#: (partner, sponsor) in sponsoring order: a root, two recruits, one below.
PARTNERS = [("py-root", ""), ("py-a", "py-root"), ("py-b", "py-root"), ("py-a1", "py-a")]
#: (order id, partner, volume).
ORDERS = [("py-o1", "py-root", "40.00"), ("py-o2", "py-a", "100.00"), ("py-o3", "py-b", "25.50"), ("py-o4", "py-a1", "60.00")]


def main(target: str, token: str | None) -> int:
    with connect(target, token) as dl:
        for partner_id, sponsor_id in PARTNERS:
            dl.genealogy.CreatePartner(
                g.CreatePartnerRequest(partner_id=partner_id, sponsor_id=sponsor_id, joined_on="2026-12-01")
            )
        for order_id, partner_id, volume in ORDERS:
            order = v.Order(order_id=order_id, partner_id=partner_id, period=PERIOD, volume=volume, kind=v.ORDER_KIND_RETAIL)
            dl.volumes.RecordOrder(v.RecordOrderRequest(order=order))
        for partner_id, _ in PARTNERS:
            got = dl.volumes.GetVolumes(v.GetVolumesRequest(partner_id=partner_id, period=PERIOD))
            levels = " ".join(f"L{lv.level}={amount(lv.volume)}" for lv in got.levels if amount(lv.volume))
            print(f"{partner_id}: PV={amount(got.pv)} GV={amount(got.gv)} {levels}".rstrip())
        request = g.ListDownlineRequest(partner_id="py-root")
        below = [f"{m.partner.partner_id}@{m.level}" for m in pages(dl.genealogy.ListDownline, request, "members", 2)]
        print("downline of py-root:", " ".join(below))
    return 0


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DOWNLINE_TARGET", "127.0.0.1:50051")
    token = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("DOWNLINE_TOKEN")
    sys.exit(main(target, token))
