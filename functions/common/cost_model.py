"""The modelled AWS cost of an order: list prices times what one order uses (bench/RESULTS.md, "Cost model").

One owner for the prices and the arithmetic: bench/run.py and bench/lifecycles.py price what they measure
with `cost_per_1000`, and the manager's dashboard shows `MEASURED`, the usage the last run of
bench/lifecycles.py counted per workflow (happy path with its actions), priced the same way. A model, not a
bill: one order at a time, Lambda at an assumed duration, free tiers left out.
"""

from __future__ import annotations

from dataclasses import dataclass

# us-east-1 (N. Virginia) list prices, as quoted in 2026 (aws.amazon.com/<service>/pricing).
SFN_USD_PER_TRANSITION = 0.025 / 1000  # Step Functions Standard
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_USD_PER_GB_S = 0.0000133334  # arm64
LAMBDA_GB, LAMBDA_SECONDS = 0.5, 0.1  # template: 512 MB arm64; assumed 100 ms per invocation
# On-demand throughput since AWS halved it on 2024-11-01 (it was $1.25 / $0.25 per million before).
DYNAMODB_USD_PER_WRU = 0.625 / 1_000_000
DYNAMODB_USD_PER_RRU = 0.125 / 1_000_000
EVENTS_USD_PER_EVENT = 1.00 / 1_000_000  # EventBridge custom events (PutEvents entries up to 64 KB)
SQS_USD_PER_REQUEST = 0.40 / 1_000_000  # standard queue, 64 KB chunks (the free million a month left out)
SES_USD_PER_EMAIL = 0.10 / 1000


@dataclass(frozen=True)
class Usage:
    """What one order uses of each priced service."""

    transitions: int
    lambda_requests: int
    lambda_gb_seconds: float
    wru: float
    rru: float
    events: int = 0
    sqs_requests: int = 0
    emails: int = 0


def cost_per_1000(usage: Usage) -> dict[str, float]:
    """USD per 1,000 orders by service."""
    return {
        "sfn": 1000 * usage.transitions * SFN_USD_PER_TRANSITION,
        "lambda": 1000
        * (usage.lambda_requests * LAMBDA_USD_PER_REQUEST + usage.lambda_gb_seconds * LAMBDA_USD_PER_GB_S),
        "dynamodb": 1000 * (usage.wru * DYNAMODB_USD_PER_WRU + usage.rru * DYNAMODB_USD_PER_RRU),
        "events": 1000 * usage.events * EVENTS_USD_PER_EVENT,
        "sqs": 1000 * usage.sqs_requests * SQS_USD_PER_REQUEST,
        "ses": 1000 * usage.emails * SES_USD_PER_EMAIL,
    }


# bench/lifecycles.py prints each workflow's `Usage(...)` in its notes; copied here from its last run (the
# happy path with its actions; marketplace: Ozon's channel).
MEASURED_ON = "2026-12-03"
MEASURED: dict[str, Usage] = {
    "courier": Usage(16, 13, 0.95, 172, 36, events=5, sqs_requests=12, emails=0),
    "pickup_point": Usage(19, 15, 1.1, 237, 37, events=6, sqs_requests=15, emails=1),
    "post": Usage(20, 16, 1.2, 253, 38, events=7, sqs_requests=18, emails=2),
    "ship_from_store": Usage(17, 14, 1.05, 238, 37.5, events=6, sqs_requests=15, emails=1),
    "click_collect": Usage(14, 12, 0.65, 164, 34.5, events=5, sqs_requests=12, emails=1),
    "reserve_in_store": Usage(9, 9, 0.5, 110, 30.5, events=4, sqs_requests=9, emails=1),
    "marketplace": Usage(12, 11, 0.8, 131, 32.5, events=5, sqs_requests=12, emails=0),
}
