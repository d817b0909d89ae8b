#!/usr/bin/python3
"""Anchor for bench/graphite-expr.ts: times graphite-web 1.1.8's own evaluator and function library
on the same in-memory data (its fetch replaced by a list lookup, as in the differential test).
argv: series_hosts series_per_host points iterations target... ; prints one JSON object."""
import json, os, sys, time, re, warnings
from datetime import datetime, timezone
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'graphite.settings')
os.environ['TZ'] = 'UTC'
warnings.filterwarnings('ignore')
import django
django.setup()
import pytz
from graphite.render import evaluator
from graphite.render.datalib import TimeSeries

hosts, per_host, points, iters = (int(x) for x in sys.argv[1:5])
targets = sys.argv[5:]
STEP = 60
UNTIL = 1700006400
FROM = UNTIL - points * STEP
DATA = {}
for h in range(hosts):
    for c in range(per_host):
        i = h * per_host + c
        DATA['bench.h%d.cpu%d' % (h, c)] = [None if (i + j) % 17 == 0 else float((i * 31 + j * 7) % 97) for j in range(points + 200)]
NAMES = sorted(DATA)


def fetch(ctx, path, timer=None):
    start = int(ctx['startTime'].timestamp()); until = int(ctx['endTime'].timestamp())
    rx = re.compile('^' + re.escape(path).replace(r'\*', '[^.]*') + '$')
    s = start - start % STEP + STEP; e = until - until % STEP + STEP
    base = FROM - 200 * STEP
    out = []
    for n in NAMES:
        if rx.match(n):
            vals = DATA[n]
            sl = [vals[(t - base) // STEP] if 0 <= (t - base) // STEP < len(vals) else None for t in range(s, e, STEP)]
            ts = TimeSeries(n, s, e, STEP, sl)
            ts.pathExpression = path
            out.append(ts)
    return out

evaluator.fetchData = fetch
evaluator.prefetchData = lambda ctx, exprs: None
res = {}
for target in targets:
    times = []
    for _ in range(iters):
        ctx = {'startTime': datetime.fromtimestamp(FROM, tz=pytz.utc), 'endTime': datetime.fromtimestamp(UNTIL, tz=pytz.utc),
               'now': datetime.fromtimestamp(UNTIL, tz=pytz.utc), 'tzinfo': pytz.utc, 'localOnly': True, 'data': [],
               'prefetched': {}, 'xFilesFactor': None, 'targets': [target], 'sourceIdHeaders': {}}
        t0 = time.perf_counter()
        r = evaluator.evaluateTarget(ctx, target)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    res[target] = {'median_ms': round(times[len(times) // 2], 2), 'series_out': len(r)}
print(json.dumps(res))
