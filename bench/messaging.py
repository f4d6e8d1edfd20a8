#!/usr/bin/env python3
"""Side-by-side server CPU of emberkv and redis-server for messaging and
transactions (issue 4): PUBLISH fan-out, EVALSHA and MULTI/EXEC.

Same machine, one run: each server pinned to CPU 0 (so emberkv runs one
worker), load generators and subscribers on CPU 1. Server CPU is
utime+stime from /proc/PID/stat around each workload. Each cell is the
median of --repeat alternating runs.

- publish_N: PUBLISH of a 16-byte payload to N subscribers (one channel),
  redis-benchmark -c 10; the subscribers are raw sockets read by one
  process that checks every byte arrived. Reported per *delivered message*
  (publishes x N).
- evalsha: EVALSHA of `return redis.call('INCR', KEYS[1])` over 100k keys.
- multi_exec: MULTI, 5 x SET, EXEC per transaction from 10 connections;
  reported per transaction. P is the number of transactions in flight per
  connection.

Usage: bench/messaging.py [--repeat 3] [--only evalsha]
"""
import argparse, multiprocessing, os, re, selectors, socket, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, free_port, cpu_seconds, resp, start  # noqa: E402

PAYLOAD = b"0123456789abcdef"
CHANNEL = b"bench-channel"


def subscriber_proc(port, n, expect_msgs, ready, done):
    """N subscriber sockets; reads until every one got expect_msgs messages."""
    os.sched_setaffinity(0, {1})
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(resp("SUBSCRIBE", CHANNEL))
        socks.append(s)
    confirm = len(resp("subscribe", CHANNEL)) - len(b"*2\r\n") + len(b"*3\r\n:1\r\n")
    one = len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL, len(PAYLOAD), PAYLOAD))
    want = {s.fileno(): confirm + one * expect_msgs for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    got = {fd: 0 for fd in want}
    ready.set()
    left = len(socks)
    deadline = time.time() + 600
    while left and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                raise SystemExit("subscriber disconnected")
            got[s.fileno()] += len(data)
            if got[s.fileno()] >= want[s.fileno()]:
                sel.unregister(s)
                left -= 1
    done.value = 1 if left == 0 else 0


def run_bench(port, args, requests, pipeline, clients=10):
    out = subprocess.run(
        ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(requests),
         "-c", str(clients), "-P", str(pipeline), "-r", "100000", "-q", *args],
        capture_output=True, text=True).stdout
    for part in out.replace("\r", "\n").split("\n"):
        m = re.search(r"([0-9.]+) requests per second", part)
        if m:
            return float(m.group(1))
    raise RuntimeError(f"redis-benchmark output: {out!r}")


def publish(port, pid, nsubs, pipeline, requests):
    ready, done = multiprocessing.Event(), multiprocessing.Value("i", 0)
    p = multiprocessing.Process(target=subscriber_proc, args=(port, nsubs, requests, ready, done))
    p.start()
    ready.wait(30)
    time.sleep(0.3)
    t0 = cpu_seconds(pid)
    run_bench(port, ["PUBLISH", CHANNEL.decode(), PAYLOAD.decode()], requests, pipeline)
    p.join(600)
    t1 = cpu_seconds(pid)
    assert done.value == 1, "subscribers did not receive every message"
    delivered = requests * nsubs
    return (t1 - t0) / delivered * 1e9, delivered / (t1 - t0)


def evalsha(port, pid, pipeline, requests):
    sha = subprocess.run(["redis-cli", "-p", str(port), "SCRIPT", "LOAD",
                          "return redis.call('INCR', KEYS[1])"], capture_output=True, text=True).stdout.strip()
    t0 = cpu_seconds(pid)
    rps = run_bench(port, ["EVALSHA", sha, "1", "key:__rand_int__"], requests, pipeline, clients=50)
    t1 = cpu_seconds(pid)
    return (t1 - t0) / requests * 1e9, rps


TX = b"".join([resp("MULTI")] + [resp("SET", f"k{i}", "v" * 16) for i in range(5)] + [resp("EXEC")])
TX_REPLY = len(b"+OK\r\n" + b"+QUEUED\r\n" * 5 + b"*5\r\n" + b"+OK\r\n" * 5)


def tx_client(port, count, pipeline):
    os.sched_setaffinity(0, {1})
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    batch = TX * pipeline
    want = TX_REPLY * pipeline
    for _ in range(count // pipeline):
        s.sendall(batch)
        got = 0
        while got < want:
            d = s.recv(1 << 16)
            if not d:
                raise SystemExit("disconnected")
            got += len(d)


def multi_exec(port, pid, pipeline, transactions, clients=10):
    per = transactions // clients
    t0 = cpu_seconds(pid)
    start_t = time.time()
    ps = [multiprocessing.Process(target=tx_client, args=(port, per, pipeline)) for _ in range(clients)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
        assert p.exitcode == 0
    t1 = cpu_seconds(pid)
    n = per * clients
    return (t1 - t0) / n * 1e9, n / (time.time() - start_t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--emberkv", default=os.path.join(ROOT, "target/release/emberkv-server"))
    ap.add_argument("--only", help="run only workloads whose name starts with this")
    a = ap.parse_args()
    rport, eport = free_port(), free_port()
    servers = {
        "redis": start(["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no"], rport),
        "emberkv": start([a.emberkv, "--port", str(eport), "--save", ""], eport),
    }
    ports = {"redis": rport, "emberkv": eport}
    work = []
    for n in (1, 10, 100):
        for pl in (1, 16):
            reqs = {1: 400_000, 10: 200_000, 100: 40_000}[n] * (4 if pl == 16 else 1)
            work.append((f"publish_{n}", pl, reqs, "delivered msg",
                         lambda port, pid, n=n, pl=pl, reqs=reqs: publish(port, pid, n, pl, reqs)))
    for pl in (1, 16):
        reqs = 300_000 if pl == 1 else 1_000_000
        work.append(("evalsha", pl, reqs, "request", lambda port, pid, pl=pl, reqs=reqs: evalsha(port, pid, pl, reqs)))
    for pl in (1, 16):
        reqs = 100_000 if pl == 1 else 400_000
        work.append(("multi_exec_5_set", pl, reqs, "transaction",
                     lambda port, pid, pl=pl, reqs=reqs: multi_exec(port, pid, pl, reqs)))
    if a.only:
        work = [w for w in work if w[0].startswith(a.only)]
    rows = []
    try:
        for name, pl, reqs, unit, fn in work:
            runs = {k: [] for k in servers}
            for rep in range(a.repeat):
                order = list(servers) if rep % 2 == 0 else list(servers)[::-1]
                for k in order:
                    runs[k].append(fn(ports[k], servers[k].pid))
            med = {k: (sorted(x[0] for x in v)[len(v) // 2], sorted(x[1] for x in v)[len(v) // 2])
                   for k, v in runs.items()}
            rows.append((name, pl, reqs, unit, med))
            (rc, rr), (ec, er) = med["redis"], med["emberkv"]
            print(f"{name} P={pl}: redis {rc:.0f} ns, emberkv {ec:.0f} ns, ratio {ec / rc:.2f}", file=sys.stderr)
        print(f"\nServers on CPU 0, load on CPU 1; median of {a.repeat} alternating runs per cell.\n")
        print("| workload | P | count | per | Redis ns CPU | emberkv ns CPU | CPU ratio | Redis per CPU-second | emberkv per CPU-second |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, pl, reqs, unit, med in rows:
            (rc, rr), (ec, er) = med["redis"], med["emberkv"]
            per_s = lambda ns: 1e9 / ns
            print(f"| {name} | {pl} | {reqs} | {unit} | {rc:.0f} | {ec:.0f} | **{ec / rc:.2f}** | {per_s(rc):.0f} | {per_s(ec):.0f} |")
    finally:
        for p in servers.values():
            p.terminate()
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
