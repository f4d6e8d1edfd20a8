#!/usr/bin/env python3
"""Snapshots side by side with redis-server (the snapshot issue's figures).

One run, same machine; each server pinned to CPU 0 (its BGSAVE thread or
fork child too: affinity is inherited), load generator and probe on CPU 1.

1. SAVE time and load time for N string keys with 16-byte values
   (key:%012d, the names redis-benchmark -r uses) and for 100k collections
   of 100 elements (25k each of lists, hashes, sets, sorted sets). SAVE is
   timed at the client; load time is what each server logs ("DB loaded
   from disk: X seconds"), on a restart from its own file.
2. BGSAVE under a SET load (redis-benchmark -P 16 -r N over the prefilled
   keyspace, so memory stays flat): RSS sampled every 10 ms, peak above the
   RSS before the BGSAVE (Redis: parent + child RSS, and its
   rdb_last_cow_size; emberkv: its one process and rdb_last_cow_size, the
   snapshot queue's peak), and a probe client's GET latency p99.9 / max
   while the save runs.

Usage: bench/snapshot.py [--keys 10000000] [--skip-collections] [--skip-strings]
                         [--skip-bgsave] [--only-bgsave] [--big-value]
"""
import argparse, os, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from compare import cmd, free_port, pipe_load, prefill, resp, rss_bytes  # noqa: E402


def start(kind, port, d):
    # A fresh log per start: readiness and the load time are read from it.
    log = os.path.join(d, "log")
    if os.path.exists(log):
        os.remove(log)
    if kind == "redis":
        argv = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                "--dir", d, "--logfile", os.path.join(d, "log")]
    else:
        argv = [os.path.join(ROOT, "target/release/emberkv-server"), "--port", str(port),
                "--save", "", "--dir", d, "--logfile", os.path.join(d, "log")]
    p = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    end = time.time() + 600
    while time.time() < end:
        try:
            if "Ready to accept" in open(os.path.join(d, "log")).read():
                return p
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{kind} did not start")


def stop(p, port):
    cmd(port, "SHUTDOWN", "NOSAVE")
    p.wait(timeout=60)


def info(port, field):
    for line in cmd(port, "INFO", "persistence").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def load_secs(d):
    # The last restart's line.
    secs = None
    for line in open(os.path.join(d, "log")):
        if "DB loaded from disk:" in line:
            secs = float(line.split("DB loaded from disk:")[1].split()[0])
    return secs


def collections():
    v = lambda i, j: f"element:{j:04d}:{i % 97}"
    for i in range(25_000):
        yield resp("RPUSH", f"list:{i}", *[v(i, j) for j in range(100)])
        args = ["HSET", f"hash:{i}"]
        for j in range(100):
            args += [f"field:{j:03d}", v(i, j)]
        yield resp(*args)
        yield resp("SADD", f"set:{i}", *[v(i, j) for j in range(100)])
        args = ["ZADD", f"zset:{i}"]
        for j in range(100):
            args += [str(j * 1.5), v(i, j)]
        yield resp(*args)


def save_and_load(kind, fill):
    d = tempfile.mkdtemp(prefix=f"snapbench-{kind}-")
    port = free_port()
    p = start(kind, port, d)
    fill(port)
    rss = rss_bytes(p.pid)
    t0 = time.time()
    assert cmd(port, "SAVE") == "OK"
    save = time.time() - t0
    size = os.path.getsize(os.path.join(d, "dump.rdb"))
    stop(p, port)
    p = start(kind, port, d)
    load = load_secs(d)
    keys = cmd(port, "DBSIZE")
    stop(p, port)
    subprocess.run(["rm", "-rf", d])
    return dict(save=save, load=load, rss=rss, size=size, keys=keys)


def children(pid):
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def probe(port, stop_flag, out):
    s = socket.create_connection(("127.0.0.1", port))
    req = resp("GET", "key:000000000001")
    while not stop_flag.is_set():
        t0 = time.perf_counter()
        s.sendall(req)
        buf = b""
        while not buf.endswith(b"\r\n") or buf.startswith(b"$") and buf.count(b"\r\n") < 2:
            buf += s.recv(4096)
        out.append((time.time(), time.perf_counter() - t0))
        time.sleep(0.001)


def bgsave_under_load(kind, nkeys):
    d = tempfile.mkdtemp(prefix=f"snapbench-bg-{kind}-")
    port = free_port()
    p = start(kind, port, d)
    prefill(port, nkeys, 16)
    bench = subprocess.Popen(
        ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set", "-P", "16",
         "-r", str(nkeys), "-d", "16", "-c", "50", "-n", "2000000000", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lat = []
    flag = threading.Event()
    th = threading.Thread(target=probe, args=(port, flag, lat))
    th.start()
    time.sleep(3)
    base = rss_bytes(p.pid)
    t_start = time.time()
    assert cmd(port, "BGSAVE").startswith("Background saving started")
    peak = base
    time.sleep(0.05)
    while info(port, "rdb_bgsave_in_progress") == "1":
        total = rss_bytes(p.pid) + sum(rss_bytes(c) for c in children(p.pid))
        peak = max(peak, total)
        time.sleep(0.01)
    t_end = time.time()
    flag.set()
    th.join()
    bench.kill()
    bench.wait()
    cow = int(info(port, "rdb_last_cow_size"))
    during = sorted(x for t, x in lat if t_start <= t <= t_end)
    before = sorted(x for t, x in lat if t < t_start)
    b999 = before[min(len(before) - 1, int(len(before) * 0.999))] if before else 0
    p999 = during[min(len(during) - 1, int(len(during) * 0.999))] if during else 0
    stop(p, port)
    subprocess.run(["rm", "-rf", d])
    return dict(base=base, extra=peak - base, cow=cow, secs=t_end - t_start,
                p999=p999 * 1e3, max=(during[-1] if during else 0) * 1e3, probes=len(during),
                before_p999=b999 * 1e3, before_max=(before[-1] if before else 0) * 1e3)


def big_value(kind):
    """The first write to a 1M-field hash right after BGSAVE (3 trials),
    its latency in ms, with 200k small keys beside it."""
    d = tempfile.mkdtemp(prefix=f"snapbench-big-{kind}-")
    port = free_port()
    p = start(kind, port, d)

    def gen():
        for i in range(0, 1_000_000, 1000):
            a = ["HSET", "big"]
            for j in range(i, i + 1000):
                a += [f"field:{j}", f"value:{j}"]
            yield resp(*a)
        for i in range(200_000):
            yield resp("SET", f"k{i}", "v")
    pipe_load(port, gen())
    out = []
    for _ in range(3):
        assert cmd(port, "BGSAVE").startswith("Background saving started")
        c = socket.create_connection(("127.0.0.1", port))
        t0 = time.perf_counter()
        c.sendall(resp("HSET", "big", "x", "y"))
        c.recv(64)
        out.append((time.perf_counter() - t0) * 1e3)
        c.close()
        while info(port, "rdb_bgsave_in_progress") == "1":
            time.sleep(0.05)
    stop(p, port)
    subprocess.run(["rm", "-rf", d])
    return out


def medium_values(kind):
    """Probe p99 / max (ms) during a BGSAVE of 10k hashes of 500 fields,
    no other load."""
    d = tempfile.mkdtemp(prefix=f"snapbench-med-{kind}-")
    port = free_port()
    p = start(kind, port, d)

    def gen():
        for i in range(10_000):
            a = ["HSET", f"h{i}"]
            for j in range(500):
                a += [f"field:{j}", f"value:{j}"]
            yield resp(*a)
        yield resp("SET", "key:000000000001", "x")  # what the probe reads
    pipe_load(port, gen())
    lat = []
    flag = threading.Event()
    th = threading.Thread(target=probe, args=(port, flag, lat))
    th.start()
    time.sleep(1)
    t0 = time.time()
    assert cmd(port, "BGSAVE").startswith("Background saving started")
    time.sleep(0.05)
    while info(port, "rdb_bgsave_in_progress") == "1":
        time.sleep(0.01)
    t1 = time.time()
    flag.set()
    th.join()
    during = sorted(x for t, x in lat if t0 <= t <= t1)
    stop(p, port)
    subprocess.run(["rm", "-rf", d])
    return during[int(len(during) * 0.99)] * 1e3, during[-1] * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=10_000_000)
    ap.add_argument("--skip-collections", action="store_true")
    ap.add_argument("--only-bgsave", action="store_true")
    ap.add_argument("--skip-strings", action="store_true")
    ap.add_argument("--skip-bgsave", action="store_true")
    ap.add_argument("--big-value", action="store_true",
                    help="only the value-heavy cases: the first HSET to a 1M-field hash "
                         "after BGSAVE, a probe during BGSAVE of 10k x 500-field hashes")
    a = ap.parse_args()
    if a.big_value:
        for kind in ("redis", "emberkv"):
            ms = big_value(kind)
            print(f"{kind}: first HSET to a 1M-field hash after BGSAVE, ms: "
                  + ", ".join(f"{x:.1f}" for x in ms))
            p99, mx = medium_values(kind)
            print(f"{kind}: probe during BGSAVE of 10k x 500-field hashes: "
                  f"p99 {p99:.2f} ms, max {mx:.2f} ms")
        return
    rows = []
    datasets = [] if a.skip_strings else [
        (f"{a.keys // 1_000_000}M strings (16 B)", lambda port: prefill(port, a.keys, 16))]
    if not a.skip_collections:
        datasets.append(("100k collections x 100", lambda port: pipe_load(port, collections())))
    for name, fill in ([] if a.only_bgsave else datasets):
        r = save_and_load("redis", fill)
        e = save_and_load("emberkv", fill)
        assert r["keys"] == e["keys"], (r, e)
        print(f"{name}: redis {r}\n  emberkv {e}", flush=True)
        rows.append((name, r, e))
    print("\n| dataset | Redis SAVE s | emberkv SAVE s | ratio | Redis load s | emberkv load s | ratio | file Redis/emberkv MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r, e in rows:
        print(f"| {name} | {r['save']:.2f} | {e['save']:.2f} | {e['save'] / r['save']:.2f} | "
              f"{r['load']:.2f} | {e['load']:.2f} | {e['load'] / r['load']:.2f} | "
              f"{r['size'] >> 20} / {e['size'] >> 20} |")
    if a.skip_bgsave:
        return
    r = bgsave_under_load("redis", a.keys)
    e = bgsave_under_load("emberkv", a.keys)
    print(f"\nbgsave: redis {r}\n  emberkv {e}")
    print("\n| BGSAVE under SET -P 16 | RSS before MB | peak extra RSS MB | extra / before | cow_size MB | save s | probe p99.9 / max ms before | probe p99.9 / max ms during | probes during |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, x in (("Redis (fork)", r), ("emberkv", e)):
        print(f"| {kind} | {x['base'] >> 20} | {x['extra'] >> 20} | {x['extra'] / x['base']:.1%} | "
              f"{x['cow'] >> 20} | {x['secs']:.1f} | {x['before_p999']:.2f} / {x['before_max']:.2f} | "
              f"{x['p999']:.2f} / {x['max']:.2f} | {x['probes']} |")


if __name__ == "__main__":
    main()
