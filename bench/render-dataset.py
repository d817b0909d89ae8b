# The bench.gw dataset of the shared bench harness (1000 series x 1 day at 10 s, retention 10s:1d) written
# straight into whisper files, so carbonado and graphite-web can be measured on the very same tree
# without a carbon-cache load first. Values follow carbon-blast's rule: series i at step j = i*1000+j.
# usage: /usr/bin/python3 bench/render-dataset.py OUT_DIR [SERIES=1000] [POINTS=8600]
import os, sys, time
import whisper

out = sys.argv[1]
series = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
points = int(sys.argv[3]) if len(sys.argv) > 3 else 8600
step = 10
end = int(time.time()) // step * step - step
first = end - (points - 1) * step
d = os.path.join(out, 'bench', 'gw')
os.makedirs(d, exist_ok=True)
for i in range(series):
    fs = os.path.join(d, 's%d.wsp' % i)
    if os.path.exists(fs):
        os.remove(fs)
    whisper.create(fs, [(step, 8640)], xFilesFactor=0.5, aggregationMethod='average')
    whisper.update_many(fs, [(first + j * step, float(i * 1000 + j)) for j in range(points)])
print(out)
