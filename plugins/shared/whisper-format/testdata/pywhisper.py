"""Test driver: replays a JSON scenario with Debian's python3-whisper (the reference).

stdin: {"path", "archives": [[spp, points]...], "xff", "method", "create": bool,
        "calls": [{"now", "points": [[ts, value]...]}], "fetches": [{"from", "until", "now"}]}
stdout: {"fetches": [[[start, end, step], [values...]] | null, ...]}  (NaN never occurs; None -> null)
"""
import json
import sys

import whisper

s = json.load(sys.stdin)
if s.get("create", True):
    whisper.create(s["path"], [tuple(a) for a in s["archives"]], s["xff"], s["method"])
for c in s.get("calls", []):
    whisper.update_many(s["path"], [tuple(p) for p in c["points"]], now=c["now"])
out = []
for f in s.get("fetches", []):
    r = whisper.fetch(s["path"], f["from"], f["until"], now=f["now"])
    out.append(None if r is None else [list(r[0]), r[1]])
json.dump({"fetches": out}, sys.stdout)
