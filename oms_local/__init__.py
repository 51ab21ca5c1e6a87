"""The embedded local runtime of oms-hub: moto in-process, wired from template.yaml.

It hosts the functions, so their packages (functions/, the Lambda code root) import as they do on
Lambda, for the runtime's own modules too (the stock import validates with the API's models).
"""

import sys
from pathlib import Path

_FUNCTIONS = str(Path(__file__).resolve().parents[1] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)
