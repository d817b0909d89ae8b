#!/usr/bin/python3
"""
Records what graphite-web 1.1.8 (the Debian package) answers for every case in cases.json and
writes golden.json next to it; expr/differential.test.ts replays the cases through carbonado's
evaluator. graphite-web's own code runs unchanged: only its data fetch is replaced by the same
in-memory fixture the TypeScript FakeStore serves (slots in (from, until], end exclusive).

  TZ=UTC /usr/bin/python3 record-graphite.py
"""
import json, math, os, re, sys
from datetime import datetime, timezone
import pytz

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'graphite.settings')
os.environ['TZ'] = 'UTC'
import warnings
warnings.filterwarnings('ignore')
import django
django.setup()
from django.conf import settings
settings.TIME_ZONE = 'UTC'
from graphite.render import evaluator
from graphite.render.datalib import TimeSeries
from graphite.errors import InputParameterError

HERE = os.path.dirname(os.path.abspath(__file__))
spec = json.load(open(os.path.join(HERE, 'cases.json')))
FIXTURES = {f['name']: f for f in spec['fixtures']}


def glob_node(node):
    out, i = '', 0
    while i < len(node):
        c = node[i]
        if c == '*': out += '[^.]*'
        elif c == '?': out += '[^.]'
        elif c == '[':
            j = node.index(']', i + 1)
            body = node[i + 1:j]
            out += '[' + ('^' + body[1:] if body.startswith('!') else body) + ']'
            i = j
        elif c == '{':
            j = node.index('}', i + 1)
            out += '(?:' + '|'.join(glob_node(a) for a in node[i + 1:j].split(',')) + ')'
            i = j
        else: out += re.escape(c)
        i += 1
    return out


def split_pattern(p):
    out, depth, cur = [], 0, ''
    for c in p:
        if c == '{': depth += 1
        if c == '}': depth -= 1
        if c == '.' and depth == 0:
            out.append(cur); cur = ''
        else: cur += c
    out.append(cur)
    return out


def tag_match(name, exprs):
    parts = name.split(';')
    tags = {'name': parts[0]}
    for seg in parts[1:]:
        k, v = seg.split('=', 1)
        tags[k] = v
    for e in exprs:
        m = re.match(r'^([^;!=]+)(!?=~?)([^;]*)$', e)
        tag, op, val = m.group(1).strip(), m.group(2), m.group(3)
        have = tags.get(tag, '')
        if op == '=': ok = have == val
        elif op == '!=': ok = have != val
        else:
            r = re.match('^(' + val + ')' if not val.startswith('^') else val, have)
            ok = bool(r) if op == '=~' else not r
        if not ok: return False
    return True


def fake_fetch(requestContext, pathExpr, timer=None):
    start = int(requestContext['startTime'].timestamp())
    until = int(requestContext['endTime'].timestamp())
    if pathExpr.startswith('seriesByTag('):
        exprs = re.findall(r"'([^']*)'|\"([^\"]*)\"", pathExpr)
        exprs = [a or b for a, b in exprs]
        names = sorted(n for n in FIXTURES if ';' in n and tag_match(n, exprs))
    else:
        rx = re.compile('^' + r'\.'.join(glob_node(n) for n in split_pattern(pathExpr)) + '$')
        names = sorted(n for n in FIXTURES if ';' not in n and rx.match(n))
    out = []
    for n in names:
        f = FIXTURES[n]
        step = f['step']
        s = start - start % step + step
        e = until - until % step + step
        vals = []
        for t in range(s, e, step):
            idx = (t - f['start']) // step
            vals.append(f['values'][idx] if 0 <= idx < len(f['values']) else None)
        ts = TimeSeries(n, s, e, step, vals, xFilesFactor=requestContext.get('xFilesFactor'))
        ts.pathExpression = pathExpr
        out.append(ts)
    return out


evaluator.fetchData = fake_fetch
evaluator.prefetchData = lambda ctx, exprs: None


def clean(v):
    if v is None: return None
    if isinstance(v, float) and math.isnan(v): return None
    if isinstance(v, float) and math.isinf(v): return 'inf' if v > 0 else '-inf'
    return v


results = []
for case in spec['cases']:
    target = case['target']
    frm = case.get('from', spec['from'])
    until = case.get('until', spec['until'])
    ctx = {
        'startTime': datetime.fromtimestamp(frm, tz=timezone.utc),
        'endTime': datetime.fromtimestamp(until, tz=timezone.utc),
        'now': datetime.fromtimestamp(until, tz=timezone.utc),
        'localOnly': True, 'data': [], 'tzinfo': pytz.utc, 'prefetched': {},
        'xFilesFactor': None, 'targets': [target], 'sourceIdHeaders': {},
    }
    try:
        series = evaluator.evaluateTarget(ctx, target)
        out = [{
            'name': s.name,
            'pathExpression': s.pathExpression,
            'start': s.start, 'end': s.end,
            'step': s.step * s.valuesPerPoint,
            'values': [clean(v) for v in s],
            'tags': {k: str(v) for k, v in s.tags.items()},
            'consolidationFunc': s.consolidationFunc,
        } for s in series]
        results.append({'target': target, 'series': out})
    except InputParameterError as e:
        results.append({'target': target, 'error': 400, 'message': str(e)})
    except Exception as e:
        results.append({'target': target, 'error': 500, 'message': '%s: %s' % (type(e).__name__, e)})

json.dump({'from': spec['from'], 'until': spec['until'], 'results': results}, open(os.path.join(HERE, 'golden.json'), 'w'), indent=1, sort_keys=True)
print('recorded %d cases' % len(results))
