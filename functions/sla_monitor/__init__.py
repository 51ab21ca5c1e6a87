"""The SLA monitor: time in status watched against each status's KPI, warnings and escalations to the right
people, marketplace ship-by deadlines and risk, and the figures of time spent (docs/sla.md)."""
