"""Partner use cases: pushes and the queued push, polls, and the one path every partner event takes into
the hub (exactly_once -> new_orders or convergence)."""
