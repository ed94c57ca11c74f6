"""Eight slow clients against the documented gunicorn deployment, alone and behind nginx.

`.venv/bin/python -m bench slow_clients` seeds a scratch database (20,000 leads), starts
gunicorn as the README runs it (gthread, 4 workers x 4 threads), then eight slow clients for
20 s of two kinds: slow headers (one header line a second) and slow exports (the ChatGPT zip,
read at 4 kB a second through a small receive window). Meanwhile a probe asks `GET /healthz`
on a new connection every 0.25 s. Printed per setup: the probe's median and worst answer
time and how many probes took over a second, beside the same probe with no slow client.
The same runs again with nginx in front, configured by `deploy/nginx/proxy.conf` (needs
`nginx` on PATH).

Why gunicorn alone can stall: a gthread worker accepts connections while its threads are
busy and queues them behind the busy ones. A thread writing an export to a client that
reads slowly is busy until the client has read it all; a worker whose four threads all are
leaves every new connection it accepted waiting.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from bench._scratch import scratch_database
from sender_service.api_tokens import issue_token
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.users import add_member

ROOT = Path(__file__).resolve().parent.parent
LEADS = 20_000
SLOW_CLIENTS = 8
SLOW_SECONDS = 20
PROBE_EVERY = 0.25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_answering(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            probe(port, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def probe(port: int, timeout: float = 60) -> float:
    """Seconds for one `GET /healthz` on a new connection, to the end of the answer."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass
    return time.perf_counter() - started


def slow_export(port: int, stop: threading.Event, path: str, token: str) -> None:
    """Ask for the export, then read it 4 kB a second through a 4 kB receive window."""
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(60)
            s.connect(("127.0.0.1", port))
            s.sendall(
                f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            deadline = time.monotonic() + SLOW_SECONDS
            while time.monotonic() < deadline and s.recv(4096):
                if stop.wait(1):
                    return
    except OSError:
        pass  # dropped by the proxy's send_timeout, or the export's end


def slow_headers(port: int, stop: threading.Event) -> None:
    """Headers one line a second, for SLOW_SECONDS; then the blank line that ends them."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n")
            for n in range(SLOW_SECONDS):
                if stop.wait(1):
                    return
                s.sendall(f"X-Slow-{n}: 1\r\n".encode())
            s.sendall(b"Connection: close\r\n\r\n")
            while s.recv(65536):
                pass
    except OSError:
        pass  # nginx drops a client this slow (client_header_timeout): that is the point


def probes_during(port: int, seconds: float, attack: Callable[..., None] | None) -> list[float]:
    stop = threading.Event()
    attackers = [
        threading.Thread(target=attack, args=(port, stop), daemon=True)
        for _ in range(SLOW_CLIENTS if attack else 0)
    ]
    for t in attackers:
        t.start()
    time.sleep(0.5)  # the slow clients are connected and holding what they hold
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        times.append(probe(port))
        time.sleep(PROBE_EVERY)
    stop.set()
    for t in attackers:
        t.join(5)
    return times


@contextmanager
def gunicorn(database_url: str) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
        "--workers", "4", "--worker-class", "gthread", "--threads", "4",
        "sender_service.app:create_app()",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_answering(port)
        time.sleep(1)  # every worker booted
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@contextmanager
def nginx(upstream_port: int) -> Iterator[int]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="replyline-nginx-") as prefix:
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(
            f"""
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    upstream replyline {{ server 127.0.0.1:{upstream_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        include {ROOT}/deploy/nginx/proxy.conf;
    }}
}}
"""
        )
        process = subprocess.Popen([binary, "-p", prefix, "-c", str(conf)])
        try:
            wait_until_answering(port)
            yield port
        finally:
            process.send_signal(signal.SIGQUIT)
            process.wait(30)


def report(label: str, times: list[float]) -> None:
    slow = sum(t > 1 for t in times)
    print(
        f"{label:<34} {len(times):>6} {statistics.median(times):>9.3f} {max(times):>9.3f} {slow:>9}"
    )


def seeded(url: str) -> tuple[str, str]:
    """Seed the scratch database; the export path of its first workspace and a viewer token."""
    subprocess.run(
        [str(Path(sys.executable).parent / "replyline"), "seed", "--workspaces", "1",
         "--leads", str(LEADS), "--random-seed", "7"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True,
    )  # fmt: skip
    with session_scope(url) as session:
        workspace = session.execute(select(Workspace.id)).scalars().first()
        assert workspace is not None
        user = add_member(session, "bench-viewer@example.test", workspace, "viewer")[0]
        token = issue_token(session, user)[1]
    return f"/api/export/chatgpt?workspace_id={workspace}", token


def main() -> None:
    window = SLOW_SECONDS + 2
    with scratch_database("slow_clients") as url:
        path, token = seeded(url)
        attacks: dict[str, Callable[..., None]] = {
            "slow headers": slow_headers,
            "slow exports": functools.partial(slow_export, path=path, token=token),
        }
        print(f"{SLOW_CLIENTS} slow clients for {SLOW_SECONDS} s; {LEADS:,} leads to export")
        print(f"{'setup':<34} {'probes':>6} {'median s':>9} {'worst s':>9} {'over 1 s':>9}")
        with gunicorn(url) as port:
            report("gunicorn alone, no slow client", probes_during(port, 5, None))
            for name, attack in attacks.items():
                report(f"gunicorn alone, 8 {name}", probes_during(port, window, attack))
            if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
                print("nginx is not installed: the proxied setup is not measured")
                return
            with nginx(port) as proxied:
                report("nginx in front, no slow client", probes_during(proxied, 5, None))
                for name, attack in attacks.items():
                    report(f"nginx in front, 8 {name}", probes_during(proxied, window, attack))


if __name__ == "__main__":
    main()
