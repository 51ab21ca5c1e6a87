"""Partner connectors: one module per partner (native payloads, mapping to canonical events, HTTP client).

A partner is one module that builds a `Connector` and calls `registry.register` at import; adding the
module's name to `registry.MODULES` is the only other change.
"""
