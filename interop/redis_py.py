"""redis-py (Debian's python3-redis), default usage: commands, the default
pipeline() (a MULTI/EXEC transaction), scan_iter, and 64 threads sharing
one connection pool, over TCP and a unix socket."""

import os
import sys
import threading

import redis

THE = os.environ["EXPECT_THE"]
YOU = os.environ["EXPECT_YOU"]
DON = int(os.environ["EXPECT_DON"])
DBSIZE = int(os.environ["EXPECT_DBSIZE"])


def check(what, got, want):
    if got != want:
        sys.exit(f"redis-py: {what}: got {got!r}, want {want!r}")


def run(name, url, **conn):
    r = redis.Redis(decode_responses=True, **conn)
    check("PING", r.ping(), True)
    check("GET the", r.get("the"), THE)
    check("GET absent", r.get("nosuchwordzz"), None)
    check("MGET", r.mget("you", "nosuchwordzz"), [YOU, None])
    check("EXISTS", r.exists("the", "nosuchwordzz"), 1)
    check("DBSIZE", r.dbsize(), DBSIZE)
    check("TYPE", r.type("the"), "string")
    check("STRLEN", r.strlen("the"), len(THE))
    check("TTL", r.ttl("the"), -1)
    check("FREQ", r.execute_command("FREQ", "the", "nosuchwordzz"), [int(THE), 0])
    check("RANK", r.execute_command("RANK", "you"), 1)
    # A UTF-8 argument, and the contraction answered from its part.
    check("FREQ don’t DON'T", r.execute_command("FREQ", "don’t", "DON'T"), [DON, DON])
    # RESP2 sends doubles as bulk strings.
    zipf = [float(z) for z in r.execute_command("ZIPF", "the", "nosuchwordzz")]
    check("ZIPF", (zipf[0] > 7, round(zipf[1], 2)), (True, 1.30))
    check("FPM absent", float(r.execute_command("FPM", "nosuchwordzz")[0]), 0.0)
    tag = r.execute_command("TAG", "LIMIT", "2", "the xylophone and the zymurgy")
    check("TAG words", sorted(tag[0::2]), ["xylophone", "zymurgy"])
    info = r.info()
    check("INFO role", info["role"], "master")
    check("INFO keys", info["db0"]["keys"], DBSIZE)
    check("CONFIG GET databases", r.config_get("databases"), {"databases": "1"})

    # pipeline() is transactional by default: MULTI ... EXEC.
    pipe = r.pipeline()
    pipe.get("the").get("nosuchwordzz").execute_command("FREQ", "you")
    check("pipeline() (MULTI/EXEC)", pipe.execute(), [THE, None, [int(YOU)]])
    pipe = r.pipeline(transaction=False)
    for _ in range(500):
        pipe.get("you")
    check("pipeline(transaction=False)", pipe.execute(), [YOU] * 500)
    check("scan_iter", sum(1 for _ in r.scan_iter(count=5000)), DBSIZE)

    # 64 threads on one pool, each with its own lookups.
    pool = redis.ConnectionPool.from_url(url, max_connections=64, decode_responses=True)
    shared = redis.Redis(connection_pool=pool)
    errors = []

    def worker(i):
        try:
            for _ in range(50):
                want = THE if i % 2 else YOU
                got = shared.get("the" if i % 2 else "you")
                if got != want:
                    errors.append(f"thread {i}: got {got!r}, want {want!r}")
                    return
        except Exception as e:  # noqa: BLE001 - any failure fails the run
            errors.append(f"thread {i}: {e}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("redis-py: 64-thread pool: " + "; ".join(errors[:5]))
    pool.disconnect()
    r.close()
    print(f"redis-py {redis.__version__} {name}: commands, pipeline() (MULTI/EXEC), pipeline(transaction=False), "
          f"scan_iter, 64 threads x 50 GETs on one pool: ok")


host, port, path = os.environ["FREQD_HOST"], int(os.environ["FREQD_PORT"]), os.environ["FREQD_SOCKET"]
run("tcp", f"redis://{host}:{port}", host=host, port=port)
run("unix", f"unix://{path}", unix_socket_path=path)
