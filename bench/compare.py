#!/usr/bin/env python3
"""Side-by-side CPU and memory comparison of emberkv and redis-server.

One run, same machine: both servers pinned to CPU 0, redis-benchmark pinned
to CPU 1. For each workload the server's CPU time (utime+stime from
/proc/PID/stat, all threads) is read before and after, and divided by the
number of requests. Memory: RSS growth after loading N keys with 16-byte
values, divided by N. Results are printed as a Markdown table of ratios
emberkv/Redis (lower is better).

Usage: bench/compare.py [--keys 1000000] [--requests 2000000] [--p1-requests 1000000]
"""
import argparse, os, re, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_ready(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK  # utime, stime (fields 14, 15)


def rss_bytes(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def used_memory(port):
    """INFO used_memory: bytes the allocator reports as allocated."""
    for line in cmd(port, "INFO", "memory").splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def cmd(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True)
    return out.stdout.strip()


def prefill(port, n, vsize):
    """Loads key:%012d (the key names redis-benchmark -r generates) with
    vsize-byte values, through redis-cli --pipe."""
    val = b"x" * vsize
    def gen():
        chunk = []
        for i in range(n):
            k = b"key:%012d" % i
            chunk.append(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$%d\r\n%s\r\n" % (k, vsize, val))
            if len(chunk) == 10000:
                yield b"".join(chunk)
                chunk = []
        if chunk:
            yield b"".join(chunk)
    p = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL)
    for c in gen():
        p.stdin.write(c)
    p.stdin.close()
    p.wait()


# Workloads that are not a redis-benchmark -t test: an explicit command line
# (redis-benchmark substitutes __rand_int__ with a 12-digit random number).
CUSTOM = {
    # LRANGE of the first 100 elements of a list prefilled with 1000.
    "lrange_100": ["LRANGE", "benchlist", "0", "99"],
    # Ranges and ranks on one 1M-member sorted set (member:%012d, score i).
    "zrangebyscore": ["ZRANGEBYSCORE", "bigzset", "__rand_int__", "+inf", "LIMIT", "0", "10"],
    "zrank": ["ZRANK", "bigzset", "member:__rand_int__"],
}


def pipe_load(port, frames):
    """Feeds an iterator of RESP-encoded commands through redis-cli --pipe."""
    p = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL)
    chunk = []
    for f in frames:
        chunk.append(f)
        if len(chunk) == 10000:
            p.stdin.write(b"".join(chunk))
            chunk = []
    p.stdin.write(b"".join(chunk))
    p.stdin.close()
    p.wait()


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


# Memory datasets of the collections issue: (name, frames generator).
def hashes_100k():
    for i in range(100_000):
        args = ["HSET", f"hash:{i}"]
        for j in range(10):
            args += [f"field:{j}", f"val{(i * 7 + j) % 1000}"]
        yield resp(*args)


def sets_100k():
    for i in range(100_000):
        yield resp("SADD", f"set:{i}", *[(i + j * 37) % 1000 for j in range(10)])


def zset_1m():
    for i in range(1_000_000):
        yield resp("ZADD", "bigzset", i, b"member:%012d" % i)


DATASETS = [
    ("100k hashes x 10 small fields", hashes_100k),
    ("100k sets x 10 small integers", sets_100k),
    ("one 1M-member sorted set", zset_1m),
]


def bench(port, pid, test, pipeline, requests, keyspace):
    t0 = cpu_seconds(pid)
    what = CUSTOM[test] if test in CUSTOM else ["-t", test]
    out = subprocess.run(
        ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(requests),
         "-r", str(keyspace), "-d", "16", "-c", "50", "-P", str(pipeline), "-q", *what],
        capture_output=True, text=True).stdout
    t1 = cpu_seconds(pid)
    rps = 0.0
    for part in out.replace("\r", "\n").split("\n"):
        m = re.search(r"([0-9.]+) requests per second", part)
        if m:
            rps = float(m.group(1))
    return (t1 - t0) / requests * 1e9, rps  # ns of server CPU per request


def start(argv, port):
    p = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_ready(port)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=2_000_000)
    ap.add_argument("--p1-requests", type=int, default=1_000_000)
    ap.add_argument("--tests", default="set,get,incr,mset")
    # Also load the collection memory datasets (and the big sorted set and
    # list the custom workloads read).
    ap.add_argument("--collections", action="store_true")
    # With --collections: skip the memory datasets (for a quick rerun of
    # the CPU cells that read the big sorted set and list).
    ap.add_argument("--skip-datasets", action="store_true")
    # Each cell is measured this many times, alternating which server goes
    # first, and the medians are reported: single runs on a shared VM swing
    # by tens of percent.
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--emberkv", default=os.path.join(ROOT, "target/release/emberkv-server"))
    a = ap.parse_args()

    rport, eport = free_port(), free_port()
    servers = {
        "redis": start(["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no"], rport),
        "emberkv": start([a.emberkv, "--port", str(eport), "--save", ""], eport),
    }
    ports = {"redis": rport, "emberkv": eport}
    try:
        mem = {}
        for name, p in servers.items():
            before = rss_bytes(p.pid)
            prefill(ports[name], a.keys, 16)
            time.sleep(0.5)
            after = rss_bytes(p.pid)
            mem[name] = (after - before) / a.keys
            assert int(cmd(ports[name], "DBSIZE")) == a.keys, f"{name} prefill incomplete"
        cmem = []
        if a.collections:
            # Each dataset on a fresh pair of servers: measured in sequence on
            # one server, a dataset can reuse pages an earlier one freed and
            # look smaller than it is.
            for label, gen in ([] if a.skip_datasets else DATASETS):
                row = {}
                for name, argv in (("redis", ["redis-server", "--save", "", "--appendonly", "no"]),
                                   ("emberkv", [a.emberkv, "--save", ""])):
                    port = free_port()
                    p = start([*argv, "--port", str(port)], port)
                    try:
                        rss0, used0 = rss_bytes(p.pid), used_memory(port)
                        pipe_load(port, gen())
                        time.sleep(0.5)
                        row[name] = (rss_bytes(p.pid) - rss0, used_memory(port) - used0)
                    finally:
                        p.terminate()
                        p.wait(timeout=30)
                cmem.append((label, row))
            for name in servers:
                pipe_load(ports[name], zset_1m())
            for name in servers:
                pipe_load(ports[name], (resp("RPUSH", "benchlist", "x" * 16) for _ in range(1000)))
                assert cmd(ports[name], "ZCARD", "bigzset") == "1000000"
        rows = []
        for test in a.tests.split(","):
            for pipeline in (1, 16):
                n = a.requests if pipeline > 1 else a.p1_requests
                runs = {name: [] for name in servers}
                for rep in range(a.repeat):
                    order = list(servers) if rep % 2 == 0 else list(servers)[::-1]
                    for name in order:
                        runs[name].append(bench(ports[name], servers[name].pid, test, pipeline, n, a.keys))
                res = {}
                for name, v in runs.items():
                    cpu = sorted(x[0] for x in v)[len(v) // 2]
                    rps = sorted(x[1] for x in v)[len(v) // 2]
                    res[name] = (cpu, rps)
                rows.append((test, pipeline, n, res))
        print(f"\nPrefilled {a.keys} keys (16-byte values); redis-benchmark -c 50 -r {a.keys}; "
              f"servers on CPU 0, load on CPU 1; median of {a.repeat} alternating runs per cell.\n")
        print("| workload | P | requests | Redis ns CPU/req | emberkv ns CPU/req | CPU ratio | Redis req/s | emberkv req/s | req/s ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
        geo16 = []
        for test, pipeline, n, res in rows:
            (rc, rr), (ec, er) = res["redis"], res["emberkv"]
            ratio = ec / rc if rc else float("nan")
            if pipeline == 16:
                geo16.append(ratio)
            print(f"| {test} | {pipeline} | {n} | {rc:.0f} | {ec:.0f} | **{ratio:.2f}** | {rr:.0f} | {er:.0f} | {er / rr if rr else 0:.2f} |")
        g = 1.0
        for r in geo16:
            g *= r
        g **= 1.0 / max(len(geo16), 1)
        print(f"\nGeometric mean CPU ratio at P=16: **{g:.2f}**\n")
        print("| memory | Redis | emberkv | ratio |")
        print("|---|---|---|---|")
        print(f"| RSS growth per key ({a.keys} keys, 16-byte values) | {mem['redis']:.1f} B | {mem['emberkv']:.1f} B | **{mem['emberkv'] / mem['redis']:.2f}** |")
        for label, row in cmem:
            (r, ru), (e, eu) = row["redis"], row["emberkv"]
            print(f"| RSS growth, {label} | {r / 1e6:.1f} MB | {e / 1e6:.1f} MB | **{e / r:.2f}** |")
            print(f"| used_memory growth, {label} | {ru / 1e6:.1f} MB | {eu / 1e6:.1f} MB | **{eu / ru:.2f}** |")
    finally:
        for p in servers.values():
            p.terminate()
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
