"""The embedded local runtime of oms-hub: moto in-process, wired from template.yaml."""
