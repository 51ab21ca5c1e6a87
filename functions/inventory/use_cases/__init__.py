"""Inventory use cases, one module per group: stock imports, announcing stock changes, availability,
and the reference data the inventory API serves."""
