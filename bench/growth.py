#!/usr/bin/env python3
"""Grows one server's keyspace to N keys while measuring the worst latency a
client sees, to show table growth never stalls the server.

The server is pinned to CPU 0; a redis-benchmark loader (pipelined SETs of
random 12-digit keys) and a probe run on CPU 1. The probe sends one GET at a
time (P=1) on its own connection, about every 0.2 ms, and records each round
trip. The loader's own latency summary is reported too.

Usage: bench/growth.py [--keys 20000000] [--server emberkv|redis]
"""
import argparse, os, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, wait_ready, rss_bytes, ROOT  # noqa: E402


def probe(port, stop, samples):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = b"*2\r\n$3\r\nGET\r\n$5\r\nprobe\r\n"
    while not stop.is_set():
        t0 = time.perf_counter_ns()
        s.sendall(req)
        buf = b""
        while not buf.endswith(b"\r\n"):
            buf += s.recv(64)
        samples.append(time.perf_counter_ns() - t0)
        time.sleep(0.0002)
    s.close()


def dbsize(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=20_000_000)
    ap.add_argument("--server", default="emberkv")
    # Few loader connections keep each event-loop pass short (4 x 16
    # requests), so the probe's latency shows server stalls rather than
    # queueing behind a saturated pipeline.
    ap.add_argument("--clients", type=int, default=4)
    # Build with `cargo build --release --features stall-diagnostics` first:
    # the server then logs any command over 1 ms CPU / 2 ms wall, counted here.
    ap.add_argument("--diagnostics", action="store_true")
    a = ap.parse_args()
    port = free_port()
    if a.server == "emberkv":
        argv = [os.path.join(ROOT, "target/release/emberkv-server"), "--port", str(port), "--save", ""]
    else:
        argv = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    log = open("/tmp/emberkv-growth.log", "w") if a.diagnostics else subprocess.DEVNULL
    srv = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=log, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        rss0 = rss_bytes(srv.pid)
        stop = threading.Event()
        samples = []
        th = threading.Thread(target=probe, args=(port, stop, samples))
        th.start()
        t0 = time.time()
        # Random keys over a 10^11 range: ~all of the N requests create a key.
        load = subprocess.run(
            ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set", "-n", str(a.keys),
             "-r", "100000000000", "-d", "16", "-c", str(a.clients), "-P", "16"],
            capture_output=True, text=True).stdout
        elapsed = time.time() - t0
        stop.set()
        th.join()
        keys = dbsize(port)
        rss = rss_bytes(srv.pid) - rss0
        summary = ""
        lines = load.replace("\r", "\n").split("\n")
        for i, l in enumerate(lines):
            if "latency summary" in l:
                summary = " ".join(x.strip() for x in lines[i:i + 3])
        samples.sort()
        n = len(samples)
        pct = lambda q: samples[min(n - 1, int(q * n))] / 1e6
        over2 = sum(1 for x in samples if x > 2_000_000)
        print(f"server={a.server} keys={keys} load_seconds={elapsed:.1f} rss_growth={rss / 1e6:.0f}MB "
              f"({rss / max(keys, 1):.1f} B/key)")
        print(f"probe: {n} GETs at P=1; p50={pct(0.5):.3f}ms p99={pct(0.99):.3f}ms "
              f"p99.9={pct(0.999):.3f}ms max={samples[-1] / 1e6:.3f}ms; over 2 ms: {over2}")
        print(f"loader (redis-benchmark -P 16 -c {a.clients}): {summary}")
        if a.diagnostics:
            log.flush()
            slow = [l for l in open("/tmp/emberkv-growth.log") if "slow command" in l]
            print(f"server-side: {len(slow)} commands over 1 ms thread CPU or 2 ms wall")
            for l in slow[:10]:
                print("  " + l.strip())
    finally:
        srv.terminate()
        srv.wait(timeout=60)


if __name__ == "__main__":
    main()
