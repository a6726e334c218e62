"""Schemathesis hooks for tests/schemathesis/run.py: one JSON line per
response into the file named by SIGNUP_ST_TALLY (the operation, what was
sent, and the status, headers and body received), so that the runner can
count cases per operation, 5xx answers and non-conforming responses itself."""

import json
import os
import threading

import schemathesis

_LOCK = threading.Lock()
_TALLY = os.environ["SIGNUP_ST_TALLY"]


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    line = {
        "operation": f"{case.operation.method.upper()} {case.operation.path}",
        "method": case.method.upper(),
        "path": case.formatted_path,
        "mode": meta.generation.mode.value if meta is not None else "explicit",
        "phase": meta.phase.name.value if meta is not None else "-",
        "status": response.status_code,
        "headers": {name.lower(): values for name, values in response.headers.items()},
        "body": response.content.decode("utf-8", "replace"),
    }
    with _LOCK, open(_TALLY, "a", encoding="utf-8") as tally:
        tally.write(json.dumps(line) + "\n")
