#!/usr/bin/env python3
"""Side-by-side server CPU of emberkv and redis-server for the data types of
issue 11: streams, HyperLogLog, geo and bitmaps; and memory per stream entry.

Same method as compare.py: one run, both servers pinned to CPU 0,
redis-benchmark pinned to CPU 1, server CPU time (utime+stime from
/proc/PID/stat) around each workload divided by the requests; each cell is
the median of --repeat runs that alternate which server goes first.

Workloads (each server is prefilled identically first):
- xadd:          XADD to one stream with an automatic ID, two small fields.
- xrange_10:     XRANGE of 10 entries from a random ID of a 1M-entry stream
                 (explicit IDs 1-0 .. 1000000-0).
- xreadgroup:    XREADGROUP GROUP g c COUNT 1 STREAMS s > on that stream
                 (each call delivers the next entry and adds it to the PEL).
- xack:          XACK of random IDs of that stream (those not pending any
                 more, or never delivered, are a lookup that acks nothing).
- pfadd:         PFADD of random elements to one (dense) HyperLogLog.
- pfcount:       PFCOUNT of that key (cached cardinality, as in real use).
- geoadd:        GEOADD of random members at random points near Berlin.
- geosearch:     GEOSEARCH BYRADIUS 1 km (about 30 hits) ASC over 100k
                 members spread over 50 x 50 km.
- setbit:        SETBIT of bit 4242 of random keys of 100k small bitmaps
                 (a bitmap per user, as rate limiters keep them). Not random
                 offsets of one big string: redis-benchmark pads
                 `__rand_int__` to 12 digits and Redis refuses offsets with
                 leading zeros, and 12 digits exceed the 2^32 offset bound.
- bitcount:      BITCOUNT of a whole 1 MB string.

Memory: INFO used_memory and RSS growth for 1M stream entries of two small
fields (XADD s * f1 <i> f2 <i>), per entry.

Usage: bench/types.py [--repeat 3] [--requests 2000000] [--p1-requests 1000000]
                      [--only xadd,pfadd]
"""
import argparse, os, random, re, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import (ROOT, cmd, cpu_seconds, free_port, pipe_load, resp,  # noqa: E402
                     rss_bytes, start, used_memory)

STREAM_N = 1_000_000
GEO_N = 100_000
BITS_KEYS = 100_000
# Request caps per run for the workloads that cost over 30 us each.
SLOW_CAP = {"bitcount": 100_000, "geosearch": 200_000}

# name -> (command line for redis-benchmark, -r keyspace for __rand_int__)
WORKLOADS = {
    "xadd": (["XADD", "bench:xadd", "*", "f1", "__rand_int__", "f2", "v"], 1_000_000),
    "xrange_10": (["XRANGE", "bench:stream", "__rand_int__", "+", "COUNT", "10"], STREAM_N),
    "xreadgroup": (["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "bench:stream", ">"], 1),
    "xack": (["XACK", "bench:stream", "g", "__rand_int__-0"], STREAM_N),
    "pfadd": (["PFADD", "bench:hll", "__rand_int__"], 100_000_000),
    "pfcount": (["PFCOUNT", "bench:hll"], 1),
    "geoadd": (["GEOADD", "bench:geoadd", "13.__rand_int__", "52.__rand_int__", "m:__rand_int__"], 1_000_000),
    "geosearch": (["GEOSEARCH", "bench:geo", "FROMLONLAT", "13.4", "52.5", "BYRADIUS", "1", "km", "ASC"], 1),
    "setbit": (["SETBIT", "bench:bits:__rand_int__", "4242", "1"], BITS_KEYS),
    "bitcount": (["BITCOUNT", "bench:bitmap"], 1),
}


def prefill(port):
    pipe_load(port, (resp("XADD", "bench:stream", f"{i}-0", "f1", i, "f2", "v")
                     for i in range(1, STREAM_N + 1)))
    cmd(port, "XGROUP", "CREATE", "bench:stream", "g", "0")
    rng = random.Random(7)

    def geo():
        for i in range(GEO_N):
            lon = 13.05 + rng.random() * 0.7  # about 50 km east-west at 52.5N
            lat = 52.3 + rng.random() * 0.45  # about 50 km north-south
            yield resp("GEOADD", "bench:geo", f"{lon:.6f}", f"{lat:.6f}", f"m:{i}")
    pipe_load(port, geo())
    pipe_load(port, (resp("PFADD", "bench:hll", *range(i, i + 100)) for i in range(0, 100_000, 100)))
    cmd(port, "PFCOUNT", "bench:hll")
    pipe_load(port, (resp("SETBIT", f"bench:bits:{i:012d}", "4242", "0") for i in range(BITS_KEYS)))
    blob = bytes(rng.getrandbits(8) for _ in range(1 << 20))
    pipe_load(port, [resp("SET", "bench:bitmap", blob)])


def reset(port, test):
    """Puts the state a workload reads back where it started, outside the
    measured time: XREADGROUP gets a fresh group (so it delivers entries,
    not empty replies, for the whole run)."""
    if test == "xreadgroup":
        cmd(port, "XGROUP", "DESTROY", "bench:stream", "g")
        cmd(port, "XGROUP", "CREATE", "bench:stream", "g", "0")


def bench(port, pid, argv, keyspace, pipeline, requests):
    t0 = cpu_seconds(pid)
    out = subprocess.run(
        ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(requests),
         "-r", str(keyspace), "-c", "50", "-P", str(pipeline), "-q", *argv],
        capture_output=True, text=True).stdout
    t1 = cpu_seconds(pid)
    rps = 0.0
    for part in out.replace("\r", "\n").split("\n"):
        m = re.search(r"([0-9.]+) requests per second", part)
        if m:
            rps = float(m.group(1))
    return (t1 - t0) / requests * 1e9, rps


def stream_memory(argv):
    """used_memory and RSS growth per entry for 1M entries of two fields."""
    port = free_port()
    p = start([*argv, "--port", str(port)], port)
    try:
        rss0, used0 = rss_bytes(p.pid), used_memory(port)
        pipe_load(port, (resp("XADD", "s", "*", "f1", i, "f2", "v") for i in range(STREAM_N)))
        time.sleep(0.5)
        assert cmd(port, "XLEN", "s") == str(STREAM_N)
        return (used_memory(port) - used0) / STREAM_N, (rss_bytes(p.pid) - rss0) / STREAM_N
    finally:
        p.terminate()
        p.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2_000_000)
    ap.add_argument("--p1-requests", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--emberkv", default=os.path.join(ROOT, "target/release/emberkv-server"))
    a = ap.parse_args()
    names = a.only.split(",") if a.only else list(WORKLOADS)

    argv = {"redis": ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            "emberkv": [a.emberkv, "--bind", "127.0.0.1", "--save", ""]}
    mem = {name: stream_memory(v) for name, v in argv.items()}

    ports = {name: free_port() for name in argv}
    servers = {name: start([*argv[name], "--port", str(ports[name])], ports[name]) for name in argv}
    try:
        for name in servers:
            prefill(ports[name])
        rows = []
        for test in names:
            line, keyspace = WORKLOADS[test]
            for pipeline in (1, 16):
                n = a.requests if pipeline > 1 else a.p1_requests
                if test == "xreadgroup":
                    n = min(n, STREAM_N)
                # Slow requests (a 1 MB BITCOUNT, a 30-hit GEOSEARCH) need
                # fewer of them for a steady figure: at Redis's 3k/s, a
                # million BITCOUNTs take 6 minutes a run.
                n = min(n, SLOW_CAP.get(test, n))
                runs = {name: [] for name in servers}
                for rep in range(a.repeat):
                    order = list(servers) if rep % 2 == 0 else list(servers)[::-1]
                    for name in order:
                        reset(ports[name], test)
                        runs[name].append(bench(ports[name], servers[name].pid, line, keyspace, pipeline, n))
                res = {name: (sorted(x[0] for x in v)[len(v) // 2], sorted(x[1] for x in v)[len(v) // 2])
                       for name, v in runs.items()}
                rows.append((test, pipeline, n, res))
        print(f"\nservers on CPU 0, redis-benchmark -c 50 on CPU 1; median of {a.repeat} alternating runs per cell.\n")
        print("| workload | P | requests | Redis ns CPU/req | emberkv ns CPU/req | CPU ratio | Redis req/s | emberkv req/s |")
        print("|---|---|---|---|---|---|---|---|")
        for test, pipeline, n, res in rows:
            (rc, rr), (ec, er) = res["redis"], res["emberkv"]
            print(f"| {test} | {pipeline} | {n} | {rc:.0f} | {ec:.0f} | **{ec / rc if rc else float('nan'):.2f}** | {rr:.0f} | {er:.0f} |")
        (ru, rr), (eu, er) = mem["redis"], mem["emberkv"]
        print("\n| memory per stream entry (1M entries, 2 small fields) | Redis | emberkv | ratio |")
        print("|---|---|---|---|")
        print(f"| used_memory growth | {ru:.1f} B | {eu:.1f} B | **{eu / ru:.2f}** |")
        print(f"| RSS growth | {rr:.1f} B | {er:.1f} B | **{er / rr:.2f}** |")
    finally:
        for p in servers.values():
            p.terminate()
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
