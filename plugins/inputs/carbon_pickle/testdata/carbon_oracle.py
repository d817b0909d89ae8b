"""Differential oracle for the carbon_pickle decoder tests.

Reads JSON {"now": float, "frames": [hex, ...]} on stdin and decodes every frame with carbon's own
SafeUnpickler (Debian graphite-carbon), then applies the receiver's per-item rules (unpack
(path, (ts, value)), float() both, drop NaN values, -1 means now). Writes one JSON result per frame:
{"ok": true, "points": [[path, repr(ts), repr(value)], ...], "skipped": n} or {"ok": false, "error": str}.
Floats travel as repr() strings so NaN and infinities survive JSON.
"""
import json
import math
import resource
import sys

from carbon.util import SafeUnpickler


def decode(frame, now):
    try:
        datapoints = SafeUnpickler.loads(frame)
        items = iter(datapoints)
    except Exception as exc:  # carbon drops the frame (or the connection) on any of these
        return {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
    points, skipped = [], 0
    try:
        for raw in items:
            try:
                (path, (ts, value)) = raw
                ts, value = float(ts), float(value)
            except Exception:
                skipped += 1
                continue
            if not isinstance(path, str) or value != value or not math.isfinite(ts):
                skipped += 1
                continue
            if int(ts) == -1:
                ts = now
            points.append([path, repr(ts), repr(value)])
    except Exception as exc:
        return {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
    return {"ok": True, "points": points, "skipped": skipped}


def main():
    # carbon's unpickler sizes its memo by the largest PUT index: a 7-byte frame with
    # LONG_BINPUT 0x10000000 allocates 4 GB. Cap the address space so such frames fail fast.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    req = json.load(sys.stdin)
    now = req["now"]
    out = [decode(bytes.fromhex(h), now) for h in req["frames"]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
