"""Golden pickle frames for the carbon_pickle decoder tests, made by the real Python pickle module
(protocols 0-5) plus hand-assembled frames in the shapes other senders emit (Python 2 str opcodes,
Etsy statsd's hand-built protocol-0 text). Writes JSON [{"name": str, "hex": str}, ...] to stdout.
The test decodes each one with carbonado and with carbon's own unpickler and compares.
"""
import json
import pickle
import struct

PAYLOAD = [
    ("a.b.c", (1700000000, 1.5)),
    ("x.y;tag=v;a=b", (1700000010, 2)),
    ("big.long", (1700000020, 2 ** 70)),
    ("neg.now", (-1, -3.25)),
    ("unicode.caf\u00e9.\u6f22", (1700000000.5, 1e300)),
    ("bool.value", (1700000030, True)),
    ("inf.value", (1700000040, float("inf"))),
    ("nan.value", (1700000050, float("nan"))),
    ("string.value", (1700000060, "42.5")),
    ("string.ts", ("1700000070", "1_000")),
    ("neg.int", (1700000080, -123456)),
    ("small.ints", (255, 65535)),
    ("none.value", (1700000090, None)),
    ("short",),
    ("list.shaped", [1700000100, 7]),
]


def carbon_relay_like(n):
    # carbon's client sends at most 500 points per message as a list of (path, (ts, value))
    return [("relay.series.%d" % i, (1700000000 + i * 10, float(i) * 0.5)) for i in range(n)]


def op_str2(s):
    # Python 2 str under protocol 2: SHORT_BINSTRING / BINSTRING
    b = s.encode("utf-8")
    if len(b) < 256:
        return b"U" + bytes([len(b)]) + b
    return b"T" + struct.pack("<i", len(b)) + b


def py2_protocol2(points):
    out = b"\x80\x02]q\x00("
    for path, (ts, value) in points:
        out += op_str2(path)
        out += b"J" + struct.pack("<i", ts) if isinstance(ts, int) else b"G" + struct.pack(">d", ts)
        out += b"G" + struct.pack(">d", value)
        out += b"\x86\x86"
    return out + b"e."


def py2_protocol0():
    # what Python 2's pickle.dumps([("a.b", (1700000000, 1.5)), ("c.d", (1700000001L, 2.0))]) wrote
    return (b"(lp0\n(S'a.b'\np1\n(I1700000000\nF1.5\ntp2\ntp3\na"
            b"(S'c.d'\np4\n(L1700000001L\nF2.0\ntp5\ntp6\na"
            b"(S'esc\\x41\\'q\\\\'\np7\ng2\ntp8\na"
            b"(Vuni\\u00e9\np9\n(I01\nI00\ntp10\ntp11\na.")


def etsy_statsd():
    # backends/graphite.js builds protocol 0 by hand: value is a string, ts a LONG with trailing L
    body = b"(l"
    for path, ts, value in [("stats.counters.a.rate", 1700000000, "2.5"),
                            ("stats.timers.b.upper_90", 1700000000, "12"),
                            ("stats.gauges.c", 1700000000, "-0.75")]:
        body += b"(S'" + path.encode() + b"'\n(L" + str(ts).encode() + b"L\nS'" + value.encode() + b"'\ntta"
    return body + b"."


def main():
    frames = []
    for proto in range(0, 6):
        frames.append(("python-protocol-%d" % proto, pickle.dumps(PAYLOAD, protocol=proto)))
    frames.append(("python-protocol-2-relay-500", pickle.dumps(carbon_relay_like(500), protocol=2)))
    frames.append(("python-protocol-4-relay-500", pickle.dumps(carbon_relay_like(500), protocol=4)))
    frames.append(("python-protocol-0-relay-300", pickle.dumps(carbon_relay_like(300), protocol=0)))
    frames.append(("python-single-item", pickle.dumps([("one.item", (1700000000, 3.0))], protocol=2)))
    shared = (1700000000, 9.0)
    frames.append(("python-memo-shared-tuple", pickle.dumps([("m.a", shared), ("m.b", shared)], protocol=2)))
    frames.append(("python-tuple-of-lists", pickle.dumps((["t.a", [1700000000, 1]],), protocol=2)))
    frames.append(("python-empty-list", pickle.dumps([], protocol=2)))
    frames.append(("python-long-name", pickle.dumps([("n" * 300, (1700000000, 1.0))], protocol=2)))
    # one series' backfill under carbon's 1 MiB frame limit, in Python 3's default protocol: with
    # MEMOIZE and 2-byte BINGETs a point costs ~13 bytes and creates 5 values (1,048,574 bytes)
    frames.append(("python-protocol-4-one-series-1MiB",
                   pickle.dumps([("k4.c0.x", (1700000000 - 86400 + (i % 8640) * 10, i % 100)) for i in range(80635)], protocol=4)))
    frames.append(("python2-protocol-2", py2_protocol2([("py2.a", (1700000000, 1.25)), ("py2.b", (1700000000.5, -2.0)),
                                                        ("py2." + "l" * 300, (1700000000, 0.0))])))
    frames.append(("python2-protocol-0", py2_protocol0()))
    frames.append(("etsy-statsd-protocol-0", etsy_statsd()))
    for name, data in frames:
        pickle.loads(data)  # every golden frame must be valid pickle
    json.dump([{"name": n, "hex": d.hex()} for n, d in frames], __import__("sys").stdout)


if __name__ == "__main__":
    main()
