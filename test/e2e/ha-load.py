#!/usr/bin/env python3
"""The client side of the HA failover tests: N long-lived slow downloads and a
steady loop of new requests through the VIP, all timed on the wall clock.

usage: ha-load.py HOST PORT N SIZE RATE LOOP_SECONDS
  N downloads of GET /bytes/SIZE, each read at RATE bytes/s through a small
  receive buffer (so the sender really is held back, see slow-get.py), each
  checked against rs-server.mjs's pattern (byte i = (i * 7) % 251) with
  SHA-256; and, from the start for LOOP_SECONDS, a new GET / every 100 ms on
  a fresh connection with a 0.5 s timeout.
Prints one line `ready T` once every download has received body bytes (T:
wall-clock seconds), then at the end one JSON object:
  {"downloads": [{"ok", "bytes", "sha_ok", "error"}...],
   "requests": [{"t": start, "e": end, "ok": bool, "who": name or error}...]}
"""
import hashlib
import json
import socket
import sys
import threading
import time

host, port, n, size, rate, loop_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])

pattern = bytes((i * 7) % 251 for i in range(size))
want = hashlib.sha256(pattern).hexdigest()

results = [None] * n
started = threading.Semaphore(0)
lock = threading.Lock()


def download(k):
    r = {"ok": False, "bytes": 0, "sha_ok": False, "error": ""}
    counted = False
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.settimeout(40)
        s.connect((host, port))
        s.sendall(f"GET /bytes/{size} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                raise RuntimeError("closed before the response head")
            buf += d
        head, body = buf.split(b"\r\n\r\n", 1)
        length = None
        for line in head.split(b"\r\n")[1:]:
            key, _, v = line.partition(b":")
            if key.strip().lower() == b"content-length":
                length = int(v.strip())
        if length != size:
            raise RuntimeError(f"content-length {length}")
        h = hashlib.sha256(body)
        got = len(body)
        started.release()
        counted = True
        t0 = time.monotonic()
        while got < length:
            ahead = got / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
            d = s.recv(4096)
            if not d:
                break
            h.update(d)
            got += len(d)
        r["bytes"] = got
        r["sha_ok"] = got == length and h.hexdigest() == want
        r["ok"] = r["sha_ok"]
        if got != length:
            r["error"] = f"closed at {got} of {length}"
        s.close()
    except Exception as e:  # noqa: BLE001 - every failure is a result
        r["error"] = f"{type(e).__name__}: {e}"
        if not counted:
            started.release()
    results[k] = r


requests = []


def one_request(t):
    rec = {"t": t, "e": t, "ok": False, "who": ""}
    try:
        s = socket.create_connection((host, port), timeout=0.5)
        s.settimeout(0.5)
        s.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        buf = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        s.close()
        rec["e"] = time.time()
        body = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
        rec["ok"] = buf.startswith(b"HTTP/1.") and b" 200 " in buf.split(b"\r\n", 1)[0]
        rec["who"] = body.decode(errors="replace").strip()
    except Exception as e:  # noqa: BLE001
        rec["who"] = type(e).__name__
        rec["e"] = time.time()
    with lock:
        requests.append(rec)


def request_loop():
    end = time.time() + loop_s
    threads = []
    while time.time() < end:
        t = threading.Thread(target=one_request, args=(time.time(),), daemon=True)
        t.start()
        threads.append(t)
        time.sleep(0.1)
    for t in threads:
        t.join(2)


loop = threading.Thread(target=request_loop)
loop.start()
workers = [threading.Thread(target=download, args=(k,)) for k in range(n)]
for w in workers:
    w.start()
    time.sleep(0.01)
for _ in range(n):
    started.acquire()
print(f"ready {time.time():.3f}", flush=True)
for w in workers:
    w.join()
loop.join()
with lock:
    reqs = sorted(requests, key=lambda r: r["t"])
print(json.dumps({"downloads": results, "requests": reqs}), flush=True)
