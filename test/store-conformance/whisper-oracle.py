#!/usr/bin/python3
"""Oracle for the store conformance suite: replays update_many calls with Python whisper (Debian's
python3-whisper) and answers fetches, with whisper's clock pinned to each call's `now`.
stdin: JSON list of cases {archives, xff, method, calls: [{now, points: [[t, v], ...]}],
fetches: [{from, until, now}]}; stdout: JSON list (per case) of fetch answers
[start, end, step, values] or null."""
import json, os, sys, tempfile, time
import whisper

cases = json.load(sys.stdin)
out = []
real_time = time.time
with tempfile.TemporaryDirectory() as d:
    for n, c in enumerate(cases):
        path = os.path.join(d, f"c{n}.wsp")
        whisper.create(path, [tuple(a) for a in c["archives"]], xFilesFactor=c["xff"], aggregationMethod=c["method"])
        for call in c["calls"]:
            time.time = lambda now=call["now"]: now
            whisper.update_many(path, [tuple(p) for p in call["points"]])
        answers = []
        for f in c["fetches"]:
            time.time = lambda now=f["now"]: now
            r = whisper.fetch(path, f["from"], f["until"], now=f["now"])
            if r is None:
                answers.append(None)
            else:
                (start, end, step), values = r
                answers.append([start, end, step, [None if v is None else v for v in values]])
        time.time = real_time
        out.append(answers)
json.dump(out, sys.stdout)
