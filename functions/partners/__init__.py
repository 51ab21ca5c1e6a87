"""Everything partner-facing: `clients` (one module per partner, a lower layer of its own), the inbound
webhooks, the partner queue consumer and the scheduled polls (`handlers`), their use cases, the rules of
inbound messages (`domain`) and the exactly-once bookkeeping and the queue (`adapters`)."""
