# Builds the whisper tree the graphite_render differential suite serves from both graphite-web 1.1.8
# and carbonado. Deterministic: the wall clock is pinned to NOW so whisper's retention checks accept
# the points, and every request of the suite passes now=NOW.
# usage: /usr/bin/python3 make-fixture.py OUT_DIR [tagged]     (needs Debian's python3-whisper)
# With `tagged`, OUT_DIR gets only tagged series, stored as carbon does with TAG_HASH_FILENAMES
# (`_tagged/<h[0:3]>/<h[3:6]>/<h>.wsp`, h = sha256 of the name), which graphite-web's finder reads,
# plus the name list carbonado's whisper store keeps beside them (`_tagged/.carbonado-tagged-names`).
import hashlib, math, os, sys, time

NOW = 1700000000
time.time = lambda: NOW  # whisper drops points older than time.time() - maxRetention
import whisper  # noqa: E402

out = sys.argv[1]
STD = [(60, 1440), (600, 1008), (3600, 720)]      # 1 min for 1 d, 10 min for 7 d, 1 h for 30 d
SLOW = [(300, 2016), (3600, 720)]                   # a series with another step


def create(path, archives=STD, agg='average', xff=0.5):
    fs = os.path.join(out, *path.split('.')) + '.wsp'
    os.makedirs(os.path.dirname(fs), exist_ok=True)
    if os.path.exists(fs):
        os.remove(fs)
    whisper.create(fs, archives, xFilesFactor=xff, aggregationMethod=agg)
    return fs


def fill(path, fn, archives=STD, agg='average', span=3 * 86400, xff=0.5):
    fs = create(path, archives, agg, xff)
    step = archives[0][0]
    end = NOW - NOW % step
    pts = []
    for t in range(end - span, end + 1, step):
        v = fn((t - (end - span)) // step, t)
        if v is not None:
            pts.append((t, float(v)))
    # oldest first, in chunks: update_many propagates each chunk to the lower archives
    for i in range(0, len(pts), 500):
        whisper.update_many(fs, pts[i:i + 500])


TAGGED = [
    'disk.used;datacenter=dc1;rack=a1;server=web01',
    'disk.used;datacenter=dc1;rack=a2;server=web02',
    'disk.used;datacenter=dc2;rack=b1;server=db01',
    'cpu.load;datacenter=dc1;server=web01',
    'cpu.load;datacenter=dc2;server=db01',
]

if len(sys.argv) > 2 and sys.argv[2] == 'tagged':
    for k, name in enumerate(TAGGED):
        h = hashlib.sha256(name.encode('utf-8')).hexdigest()
        fs = os.path.join(out, '_tagged', h[0:3], h[3:6], h + '.wsp')
        os.makedirs(os.path.dirname(fs), exist_ok=True)
        whisper.create(fs, STD, xFilesFactor=0.5, aggregationMethod='average')
        end = NOW - NOW % 60
        whisper.update_many(fs, [(t, float((t // 60 * (k + 3)) % 41)) for t in range(end - 86400, end + 1, 60)])
    with open(os.path.join(out, '_tagged', '.carbonado-tagged-names'), 'w') as f:
        f.write(''.join(n + '\n' for n in TAGGED))
    print(out)
    sys.exit(0)

hosts = ['web01', 'web02', 'web03', 'web04', 'db01']
for h, host in enumerate(hosts):
    fill('servers.%s.cpu.user' % host, lambda i, t, h=h: (i * 7 + h * 13) % 50 + h)
    fill('servers.%s.cpu.system' % host, lambda i, t, h=h: ((i * 3 + h * 5) % 20) / 4.0)
    # a counter with a reset every 500 minutes (derivative, perSecond, nonNegativeDerivative)
    fill('servers.%s.net.bytes_in' % host, lambda i, t, h=h: (i % 500) * (100 + h) + h, agg='last')
# gaps: every 7th minute missing, and a hole of an hour
fill('servers.web03.cpu.idle', lambda i, t: None if i % 7 == 0 or 1200 < i % 1440 < 1260 else 100 - (i % 30))
fill('apps.api.requests.count', lambda i, t: (i * 11) % 17, agg='sum')
fill('apps.api.latency.p99', lambda i, t: 100 + (i * 37) % 250 + ((i % 3) * 0.25), agg='max')
fill('apps.web.requests.count', lambda i, t: (i * 5) % 13, agg='sum')
fill('apps.web.latency.p99', lambda i, t: 80 + (i * 29) % 150, agg='max')
fill('special.negative', lambda i, t: -((i * 3) % 40) + 10)
fill('special.fractions', lambda i, t: math.sin(i / 10.0) * 1000.0 / 3.0)
fill('special.sparse', lambda i, t: (i % 97) if i % 13 == 0 else None)
fill('special.zeros', lambda i, t: 0)
fill('special.big', lambda i, t: 1e15 + i * 1e9)
fill('slow.metric', lambda i, t: (i * 19) % 23, archives=SLOW)
create('special.empty')  # a series with no points at all
print(out)
