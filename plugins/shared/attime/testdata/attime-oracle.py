# Oracle for attime.test.ts: evaluates at-time strings with Debian's graphite-web 1.1.8 parser.
# stdin: JSON [[input, tz or null, now_epoch], ...]  stdout: JSON [epoch_int | "error"]
# Run with /usr/bin/python3 (the Debian interpreter that has graphite-web and pytz).
import json, sys
from datetime import datetime
import django
from django.conf import settings
settings.configure(TIME_ZONE='UTC')
import pytz
from graphite.render.attime import parseATTime
import calendar
def epoch(dt):
    return calendar.timegm(dt.astimezone(pytz.utc).timetuple())

out = []
for s, tz, now in json.load(sys.stdin):
    zone = pytz.timezone('UTC')
    if tz:
        try:
            zone = pytz.timezone(tz)
        except pytz.UnknownTimeZoneError:
            pass
    try:
        n = datetime.fromtimestamp(now, zone)
        out.append(int(epoch(parseATTime(s, zone, n))))
    except Exception:
        out.append('error')
print(json.dumps(out))
