#!/usr/bin/env python3
"""A deliberately slow HTTP/1.0 GET, for tests that need a connection to stay
open for seconds. curl's --limit-rate only slows the application: the kernel
still takes the whole body into its receive buffer at once, so the TCP
connection itself ends early. Here the receive buffer is tiny and the body is
read at a fixed rate, so the sender really is held back by the window.

usage: slow-get.py HOST PORT PATH LOCAL_PORT OUT_FILE BYTES_PER_SECOND
Writes the body to OUT_FILE and the response head to OUT_FILE.hdr; exits 0
when the whole body (Content-Length) arrived.
"""
import socket
import sys
import time

host, port, path, local_port, out, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
CHUNK = 4096

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# before connect, so the advertised window starts (and stays) small
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.bind(("0.0.0.0", local_port))
s.settimeout(10)
s.connect((host, port))
s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())

buf = b""
while b"\r\n\r\n" not in buf:
    data = s.recv(CHUNK)
    if not data:
        sys.exit("connection closed before the response head")
    buf += data
head, body = buf.split(b"\r\n\r\n", 1)
with open(out + ".hdr", "wb") as f:
    f.write(head + b"\r\n")
length = None
for line in head.split(b"\r\n")[1:]:
    k, _, v = line.partition(b":")
    if k.strip().lower() == b"content-length":
        length = int(v.strip())
if length is None:
    sys.exit("no content-length")

start = time.monotonic()
got = len(body)
with open(out, "wb") as f:
    f.write(body)
    f.flush()
    while got < length:
        # hold the average at `rate` bytes/s
        ahead = got / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        data = s.recv(CHUNK)
        if not data:
            break
        f.write(data)
        f.flush()
        got += len(data)
s.close()
sys.exit(0 if got == length else f"short body: {got} of {length} bytes")
