#!/usr/bin/python3
"""tag-throughput.py: TAG's throughput on a 1 MB text, client included.

Sends TAG LIMIT 10 with a 1,000,000-byte English text (the test texts of
testdata/texts, concatenated and repeated, cut at a space) as one argument,
over one redis-py connection, back to back for a while, and prints the
median of several rounds in MB/s of text. Run it against a server with one
worker so that the figure is one worker's:

    bin/freqd serve --workers 1 --listen 127.0.0.1:7399 &
    scripts/tag-throughput.py --port 7399

It needs redis-py (Debian: apt-get install python3-redis).
"""

import argparse
import os
import statistics
import time

import redis

TEXT_BYTES = 1_000_000


def text_of(size):
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.join(here, "..", "testdata", "texts")
    parts = [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))]
    b = b"\n".join(parts)
    while len(b) < size:
        b += b"\n" + b
    return b[: b.rindex(b" ", 0, size)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7379)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    args = ap.parse_args()
    text = text_of(TEXT_BYTES)
    r = redis.Redis(host=args.host, port=args.port)
    print("top words:", r.execute_command("TAG", "LIMIT", 5, text))
    rates = []
    for _ in range(args.rounds):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            r.execute_command("TAG", "LIMIT", 10, text)
            n += 1
        rates.append(n * len(text) / (time.perf_counter() - start) / 1e6)
    print("text %d bytes; MB/s per round: %s; median %.1f MB/s"
          % (len(text), " ".join("%.1f" % x for x in rates), statistics.median(rates)))


if __name__ == "__main__":
    main()
