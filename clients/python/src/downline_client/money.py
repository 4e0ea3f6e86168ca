"""Amounts: the API carries money and volumes as decimal strings, never floats."""

from __future__ import annotations

from decimal import Decimal


def amount(text: str) -> Decimal:
    """The exact value of an amount or a volume of the API ("" reads as 0)."""
    return Decimal(text) if text else Decimal(0)
