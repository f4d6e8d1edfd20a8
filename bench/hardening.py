#!/usr/bin/env python3
"""What a careless or hostile client does to each server, side by side.

One run, same machine, emberkv and redis-server 7.0.15, each measured on
its own fresh process (server pinned to CPU 0, clients on CPU 1):

  partial   200 clients each send 4 MiB of a 4 MiB + 1 byte request and
            close: RSS and open fds before, and 1 s after.
  pipeline  a 300k-command redis-py pipeline (`pipeline().execute()`: the
            whole pipeline is written before any reply is read) of SET with
            1 KB values, then one of GET: completes? seconds.
  lua       four scripts that each build a 3M-element table: RSS after each.
  flushall  ~1 GB of 1 KB strings, FLUSHALL: RSS 1 s after.
  del       one 512 MB string (SETRANGE), DEL: RSS 1 s after.

Usage: bench/hardening.py [--only partial,pipeline,...]
Prints a Markdown table.
"""
import argparse, os, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EMBERKV = os.environ.get("EMBERKV_BIN", os.path.join(ROOT, "target", "release", "emberkv-server"))


sys.path.insert(0, HERE)
from compare import free_port, rss_bytes as rss  # noqa: E402


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def start(kind, tmp):
    port = free_port()
    if kind == "emberkv":
        argv = [EMBERKV, "--port", str(port), "--save", "", "--dir", tmp]
    else:
        argv = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                "--bind", "127.0.0.1", "--dir", tmp]
    p = subprocess.Popen(["taskset", "-c", "0"] + argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    end = time.time() + 10
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError(f"{kind} did not start")


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def mb(n):
    return f"{n / (1 << 20):.0f} MB"


def partial(pid, port, r):
    before = (rss(pid), fds(pid))
    head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4194305\r\n"
    body = b"x" * (4 << 20)
    for _ in range(200):
        s = socket.create_connection(("127.0.0.1", port))
        try:
            s.sendall(head + body)
        except OSError:
            pass
        s.close()
    time.sleep(1)
    after = (rss(pid), fds(pid))
    clients = r.info("clients")["connected_clients"]
    return (f"RSS {mb(before[0])} -> {mb(after[0])}, fds {before[1]} -> {after[1]}, "
            f"connected_clients {clients}")


def pipeline(pid, port, r):
    v = "x" * 1024
    out = []
    for what in ("SET", "GET"):
        p = r.pipeline(transaction=False)
        for i in range(300_000):
            if what == "SET":
                p.set(f"k{i}", v)
            else:
                p.get(f"k{i}")
        done = {}

        def run():
            t = time.time()
            res = p.execute()
            done["t"] = time.time() - t
            done["n"] = len(res)

        th = threading.Thread(target=run, daemon=True)
        th.start()
        th.join(120)
        out.append(f"{what}: {done['n']} replies in {done['t']:.1f} s" if "t" in done
                   else f"{what}: no reply after 120 s (deadlock)")
    r.flushall()
    return "; ".join(out)


def lua(pid, port, r):
    script = "local t = {} for i = 1, 3000000 do t[i] = i end return #t"
    sizes = [mb(rss(pid))]
    for _ in range(4):
        r.eval(script, 0)
        sizes.append(mb(rss(pid)))
    time.sleep(1)
    sizes.append(mb(rss(pid)) + " (1 s later)")
    return " -> ".join(sizes)


def flushall(pid, port, r):
    v = "x" * 1000
    for base in range(0, 1_000_000, 50_000):
        p = r.pipeline(transaction=False)
        for i in range(base, base + 50_000):
            p.set(f"k{i}", v)
        p.execute()
    full = rss(pid)
    r.flushall()
    time.sleep(1)
    return f"{mb(full)} -> {mb(rss(pid))}"


def delete(pid, port, r):
    r.setrange("big", 512 * 1024 * 1024 - 1, "x")
    full = rss(pid)
    r.delete("big")
    time.sleep(1)
    return f"{mb(full)} -> {mb(rss(pid))}"


CASES = {"partial": partial, "pipeline": pipeline, "lua": lua, "flushall": flushall,
         "del": delete}


def main():
    import redis
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(CASES))
    a = ap.parse_args()
    rows = []
    for name in a.only.split(","):
        cells = []
        for kind in ("redis", "emberkv"):
            with tempfile.TemporaryDirectory() as tmp:
                p, port = start(kind, tmp)
                try:
                    r = redis.Redis(port=port, socket_timeout=180)
                    cells.append(CASES[name](p.pid, port, r))
                finally:
                    stop(p)
        rows.append((name, *cells))
        print(f"{name}: redis: {cells[0]} | emberkv: {cells[1]}", file=sys.stderr)
    print("| case | Redis 7.0.15 | emberkv |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
