"""Test driver: answers find patterns with graphite-web's own StandardFinder over a directory.

argv: whisper_dir; stdin: JSON list of patterns; stdout: JSON list of [[path, is_leaf]...] per pattern.
"""
import json
import os
import sys
import warnings

warnings.simplefilter('ignore')
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'graphite.settings')
import django  # noqa: E402

django.setup()
from graphite.finders.standard import StandardFinder  # noqa: E402
from graphite.storage import FindQuery  # noqa: E402

finder = StandardFinder(directories=[sys.argv[1]])
out = []
for pattern in json.load(sys.stdin):
    out.append(sorted({(n.path, bool(n.is_leaf)) for n in finder.find_nodes(FindQuery(pattern, None, None))}))
json.dump(out, sys.stdout)
