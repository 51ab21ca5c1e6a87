"""Partner clients: one module per partner (native payloads, mapping to canonical events in `base`, HTTP
client on the one retry and rate-limit stack in `http`), and the payment acquirer's client.

A partner is one module that builds a `Connector` and calls `registry.register` at import; adding the
module's name to `registry.MODULES` is the only other change. Clients import `common` only: they sit
below the orders and inventory they serve.
"""
