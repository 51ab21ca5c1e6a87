"""The loyalty tests' card and order: 2 x 1990.00 + 1 x 1000.00 = 4980.00, a tenth of it paid with points."""

from __future__ import annotations

CARD = "7000123412345678"
LINES = [{"sku": "SKU-A", "qty": 2, "price": 1990.00}, {"sku": "SKU-B", "qty": 1, "price": 1000.00}]
