"""A small typed client for downline, the genealogy and commission engine.

The API modules (``downline.v1.*_pb2``) are generated from the repository's
``proto/`` when the package is built (see ``generate.py``). This package adds
what every caller writes by hand otherwise: the credentials on every call,
one object with a stub per service, and iteration over paged lists::

    from downline_client import connect, pages
    from downline.v1 import genealogy_pb2 as g

    with connect("127.0.0.1:50051", token="my-api-key") as dl:
        dl.genealogy.CreatePartner(g.CreatePartnerRequest(partner_id="A", joined_on="2026-01-05"))
        for member in pages(dl.genealogy.ListDownline, g.ListDownlineRequest(partner_id="A"), "members"):
            print(member.partner.partner_id)
"""

from .client import Client, connect
from .paging import pages
from .money import amount

__all__ = ["Client", "connect", "pages", "amount"]
