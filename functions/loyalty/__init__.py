"""Loyalty points: an order's points held at intake, written off when it is paid or delivered, accrued on
delivery and given back pro rata, through a Loymax-like provider (docs/loyalty.md)."""
