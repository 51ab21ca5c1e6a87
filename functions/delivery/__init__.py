"""Delivery promise for storefronts, and the carriers whose transit times it uses."""
