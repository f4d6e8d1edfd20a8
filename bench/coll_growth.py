#!/usr/bin/env python3
"""Grows one big list, hash, set and sorted set, then deletes them, on a
server built with `--features stall-diagnostics`, and reports every command
that used over 1 ms of thread CPU time or over 2 ms of wall time (the
server logs them). Shows that growth, big-value deletion and large
encodings never stall the event loop.

Usage: cargo build --release --features stall-diagnostics
       bench/coll_growth.py [--binary target/release/emberkv-server] [--members 5000000]
"""
import argparse, os, re, subprocess, tempfile, time

from compare import ROOT, free_port, cmd as cli


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/emberkv-server"))
    ap.add_argument("--members", type=int, default=5_000_000)
    a = ap.parse_args()
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="emberkv-diag-", suffix=".log", delete=False).name
    srv = subprocess.Popen(["taskset", "-c", "0", a.binary, "--port", str(port), "--save", "",
                            "--logfile", log])
    time.sleep(0.5)
    n = a.members
    loads = [
        ("zadd", ["ZADD", "bigz", "__rand_int__", "m:__rand_int__"]),
        ("hset", ["HSET", "bigh", "f:__rand_int__", "value-of-16bytes"]),
        ("sadd", ["SADD", "bigs", "m:__rand_int__"]),
        ("lpush", ["LPUSH", "bigl", "element-16-bytes"]),
    ]
    try:
        for name, command in loads:
            t = time.time()
            subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(n),
                            "-r", str(n * 4), "-c", "4", "-P", "16", "-q", *command],
                           capture_output=True)
            print(f"{name}: {time.time() - t:.1f} s")
        for k, c in (("bigz", "ZCARD"), ("bigh", "HLEN"), ("bigs", "SCARD"), ("bigl", "LLEN")):
            print(k, c, cli(port, c, k), cli(port, "OBJECT", "ENCODING", k))
        print("used_memory before DEL:", cli(port, "INFO", "memory").split("used_memory:")[1].split()[0])
        t = time.time()
        print("DEL:", cli(port, "DEL", "bigz", "bigh", "bigs", "bigl"), f"in {time.time() - t:.3f} s (client side)")
        time.sleep(3)
        print("lazyfree:", re.findall(r"lazyfree\w*:\d+", cli(port, "INFO")))
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    slow = [l for l in open(log) if "stall diagnostic" in l]
    print(f"slow-command diagnostics: {len(slow)}")
    for l in slow[:20]:
        print("  ", l.strip())


if __name__ == "__main__":
    main()
