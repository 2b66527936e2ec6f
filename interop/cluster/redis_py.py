"""redis-py's RedisCluster (Debian's python3-redis) against three freqd
shards: every form in the expectations file (its first argument, written by
scale/cluster_test.go from a server of the whole table) through a cluster
pipeline, GET and RANK; MGET across slots with mget_nonatomic, which splits
it; DBSIZE summed over the shards; TAG from a random node and from each."""

import json
import sys

from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException, ResponseError


def fail(msg):
    sys.exit(f"redis-py cluster: {msg}")


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    nodes = [ClusterNode(*addr.rsplit(":", 1)) for addr in spec["nodes"][:1]]
    rc = RedisCluster(startup_nodes=nodes, decode_responses=True)
    if len(rc.get_primaries()) != 3:
        fail(f"the client found {len(rc.get_primaries())} primaries, want 3")

    forms = spec["forms"]
    for i in range(0, len(forms), 5000):
        chunk = forms[i:i + 5000]
        pipe = rc.pipeline()
        for f in chunk:
            pipe.get(f["word"])
            pipe.execute_command("RANK", f["word"])
        got = pipe.execute()
        for k, f in enumerate(chunk):
            get, rank = got[2 * k], got[2 * k + 1]
            want_get = f["get"] or None
            want_rank = int(f["rank"]) if f["rank"] else None
            if get != want_get or rank != want_rank:
                fail(f"{f['word']}: GET {get!r} RANK {rank!r}; the whole table answers {want_get!r} and {want_rank!r}")
    print(f"redis-py cluster: {len(forms)} forms, GET and RANK, as the whole table")

    keys = [f["word"] for f in forms[:: len(forms) // 40]]
    want = [f["get"] or None for f in forms[:: len(forms) // 40]]
    got = rc.mget_nonatomic(keys)
    if got != want:
        fail(f"mget_nonatomic across slots: {got}, want {want}")
    try:
        rc.mget(keys)
        fail("mget across slots was sent")
    except (RedisClusterException, ResponseError):
        pass  # refused, as for Redis
    # redis-py sends DBSIZE to one node, as to Redis; over the primaries
    # it sums their answers.
    dbsize = rc.dbsize(target_nodes=RedisCluster.PRIMARIES)
    if dbsize != spec["dbsize"]:
        fail(f"DBSIZE over the shards: {dbsize}, want {spec['dbsize']}")

    tag = spec["tag"]
    got = rc.execute_command("TAG", "LIMIT", "0", tag["text"], target_nodes=RedisCluster.RANDOM)
    if got != tag["reply"]:
        fail(f"TAG from a random node: {got}, want {tag['reply']}")
    for node in rc.get_primaries():
        got = rc.execute_command("TAG", "LIMIT", "0", tag["text"], target_nodes=node)
        if got != tag["reply"]:
            fail(f"TAG from {node.name}: {got}, want {tag['reply']}")
    print("redis-py cluster: MGET split, DBSIZE summed, TAG from every node, as the whole table")


main()
