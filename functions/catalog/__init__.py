"""The product catalog: what each SKU is (name, barcodes) and what it weighs and measures, for the couriers'
packages (docs/catalog.md)."""
