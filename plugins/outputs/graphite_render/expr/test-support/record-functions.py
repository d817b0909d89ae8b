#!/usr/bin/python3
"""Writes functions-golden.json: graphite-web 1.1.8's group, params metadata and signature text
for every function (descriptions left out: ours are our own words). describe.test.ts compares.
The signature is built as graphite-web's functionInfo builds it (getargspec without the request
context); Python 3.11 no longer has getargspec, so inspect.signature stands in: the same text."""
import inspect, json, math, os, warnings
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'graphite.settings')
warnings.filterwarnings('ignore')
import django
django.setup()
from graphite.render.functions import SeriesFunctions

def clean(v):
    if isinstance(v, float) and math.isinf(v): return 'inf'
    if isinstance(v, list): return [clean(x) for x in v]
    return v

out = {}
for name, fn in SeriesFunctions.items():
    sig = inspect.signature(fn)
    args = sig.replace(parameters=list(sig.parameters.values())[1:])
    out[name] = {'group': fn.group, 'function': name + str(args), 'params': [{k: clean(v) for k, v in p.toJSON().items()} for p in fn.params]}
json.dump(out, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'functions-golden.json'), 'w'), indent=1, sort_keys=True)
print(len(out))
