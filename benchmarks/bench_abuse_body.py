"""Server memory under an oversized webhook body (Hardening v2, item 1).

Starts ``streamlit run app_streamlit_cloud.py`` on a free loopback port (fresh data folder, no
secrets), sends one 300 MB chunked POST to ``/api/webhooks/stripe`` over a raw socket (1 MB
chunks, as fast as the server takes them) and samples the server's RSS every 20 ms. Prints the
status line, how much was sent before the server answered or closed, and the RSS before, at
peak and 3 s after.

    python benchmarks/bench_abuse_body.py [--mb 300] [--path /api/webhooks/stripe]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_app_server import free_port, start_server, stop_server, wait_healthy  # noqa: E402

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / MB


def send_chunked(port: int, path: str, total_mb: int) -> tuple[str, int]:
    """Returns the response's status line and the MB sent before the server answered."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"%x\r\n" % MB + b"{" * MB + b"\r\n"
    sent = 0
    sock.settimeout(5)
    try:
        for _ in range(total_mb):
            sock.sendall(chunk)
            sent += 1
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection after its 413
    try:
        status = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    except OSError as exc:
        status = f"(no answer: {exc})"
    sock.close()
    return status, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--path", default="/api/webhooks/stripe")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        port = free_port()
        proc = start_server(ROOT, port, Path(tmp) / "data", home)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc, home / "server.log")
            time.sleep(2)
            before = rss_mb(proc.pid)
            peak = before
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_mb(proc.pid))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            status, sent = send_chunked(port, args.path, args.mb)
            time.sleep(3)
            done.set()
            sampler.join()
            after = rss_mb(proc.pid)
        finally:
            stop_server(proc)
    print(f"POST {args.path}, {args.mb} MB chunked: {status!r}, {sent} MB sent")
    print(f"server RSS MB: before {before:.0f}, peak {peak:.0f} (+{peak - before:.0f}), ", end="")
    print(f"3 s after {after:.0f} (+{after - before:.0f})")


if __name__ == "__main__":
    main()
