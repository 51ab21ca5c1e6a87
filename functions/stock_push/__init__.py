"""The marketplace stock push: what each channel may offer, sent to the partner's warehouses within the
partner's limits, verified item by item, resumed after any interruption (docs/stock-push.md)."""
