"""Lifecycle actions: what an order's status asks of the outside world on entering it (confirm to the
marketplace, hand over, cancel there, open a store task), run exactly once per status entry from the
lifecycle's OrderStatusEntered announcements, with every attempt recorded on the order (docs/actions.md)."""
