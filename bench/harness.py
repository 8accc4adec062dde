"""Shared machinery for the benchmark scenarios: servers, load generators, statistics.

Everything here targets 127.0.0.1 only, every wait is bounded in time, and servers are
started in their own session so that the scenario (and only the scenario) stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


# --- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerFlags:
    """The uvicorn flags every server of a run shares, so only the app differs."""

    loop: str
    http: str

    @classmethod
    def detect(cls, loop: str = "auto", http: str = "auto") -> ServerFlags:
        """Resolve ``auto`` to the fastest installed implementation, explicitly."""
        if loop == "auto":
            loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        if http == "auto":
            http = "httptools" if importlib.util.find_spec("httptools") else "h11"
        return cls(loop=loop, http=http)

    def uvicorn_args(self, workers: int = 1) -> list[str]:
        return [
            "--workers",
            str(workers),
            "--loop",
            self.loop,
            "--http",
            self.http,
            "--no-access-log",
            "--log-level",
            "warning",
            "--no-proxy-headers",
            "--lifespan",
            "on",
        ]


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def uvicorn_command() -> list[str]:
    """``uvicorn`` from the interpreter's own environment (the venv)."""
    exe = Path(sys.executable).parent / "uvicorn"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "uvicorn"]


def uvicorn_version() -> str:
    import uvicorn

    return uvicorn.__version__


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_uvicorn(
    name: str,
    app: str,
    *,
    flags: ServerFlags,
    env: Mapping[str, str],
    log_dir: Path,
    app_dir: Path | None = None,
    workers: int = 1,
) -> Server:
    """Start ``uvicorn --factory <app>`` on a free loopback port (not yet ready).

    With ``workers`` > 1 uvicorn supervises that many processes sharing the port; stopping
    the server stops them all.
    """
    port = free_port()
    cmd = [*uvicorn_command(), "--factory", app, "--host", HOST, "--port", str(port)]
    if app_dir is not None:
        cmd += ["--app-dir", str(app_dir)]
    cmd += flags.uvicorn_args(workers)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            cmd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal Ctrl-C reaches us; we stop the server
        )
    return Server(name=name, port=port, proc=proc, log_path=log_path)


def stop_server(server: Server, timeout_s: float = 10.0) -> None:
    """Stop one server we started: SIGTERM, then SIGKILL after ``timeout_s``."""
    if server.proc.poll() is not None:
        return
    server.proc.terminate()
    try:
        server.proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=timeout_s)


def http_get(port: int, path: str, timeout_s: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def wait_ready(server: Server, path: str, timeout_s: float = 30.0) -> None:
    """Poll ``path`` until it answers 200; fail if the server dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        try:
            status, _, _ = http_get(server.port, path, timeout_s=2.0)
            if status == 200:
                return
            last_error = f"HTTP {status}"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {timeout_s}s ({last_error})")


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so ``finally`` blocks (server shutdown) run."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- load generation --------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int  # connect/read/write errors and timeouts
    non_2xx: int

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.errors == 0 and self.non_2xx == 0


_WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"connect\\": %d, " ..
    "\\"read\\": %d, \\"write\\": %d, \\"status\\": %d, \\"timeout\\": %d, " ..
    "\\"p50\\": %d, \\"p90\\": %d, \\"p99\\": %d, \\"mean\\": %f, \\"max\\": %d}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    exe = wrk_path()
    if exe is None:
        return "missing"
    out = subprocess.run(
        [exe, "-v"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    match = re.search(r"wrk\s+(\S+)", out)
    return match.group(1) if match else out.strip()[:40]


def run_wrk(
    port: int, path: str, *, duration_s: float, connections: int, threads: int, work_dir: Path
) -> LoadResult:
    """One ``wrk`` run against 127.0.0.1; latency percentiles come from a Lua ``done`` hook."""
    exe = wrk_path()
    if exe is None:
        raise RuntimeError("wrk is not installed")
    script = work_dir / "bench_done.lua"
    if not script.exists():
        script.write_text(_WRK_SCRIPT)
    seconds = max(1, math.ceil(duration_s))
    cmd = [
        exe,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{path}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    duration = raw["duration_us"] / 1e6
    return LoadResult(
        requests=raw["requests"],
        duration_s=duration,
        rps=raw["requests"] / duration if duration > 0 else 0.0,
        p50_ms=raw["p50"] / 1000,
        p90_ms=raw["p90"] / 1000,
        p99_ms=raw["p99"] / 1000,
        mean_ms=raw["mean"] / 1000,
        max_ms=raw["max"] / 1000,
        errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        non_2xx=raw["status"],
    )


class _ClientConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending ``request`` back to back until the deadline.

    Responses are framed by Content-Length (both servers send it); latency is measured from
    writing a request to receiving the last byte of its response, like wrk.
    """

    def __init__(self, request: bytes, deadline: float, stats: _LoadStats) -> None:
        self.request = request
        self.deadline = deadline
        self.stats = stats
        self.buffer = bytearray()
        self.expected: int | None = None  # total bytes of the response being read
        self.status = 0
        self.sent_at = 0
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._send_next()

    def _send_next(self) -> None:
        assert self.transport is not None
        if time.monotonic() >= self.deadline:
            self.transport.close()
            return
        self.sent_at = time.perf_counter_ns()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.expected is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).decode("latin-1")
                status_line, _, rest = head.partition("\r\n")
                self.status = int(status_line.split(" ", 2)[1])
                length = 0
                for line in rest.split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                self.expected = end + 4 + length
            if len(self.buffer) < self.expected:
                return
            del self.buffer[: self.expected]
            self.expected = None
            self.stats.record(time.perf_counter_ns() - self.sent_at, self.status)
            if self.buffer:  # a response we never asked for: treat as a protocol error
                self.stats.errors += 1
                assert self.transport is not None
                self.transport.close()
                return
            self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.expected is not None or self.buffer:
            self.stats.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class _LoadStats:
    latencies_ns: list[int] = field(default_factory=list)
    non_2xx: int = 0
    errors: int = 0

    def record(self, latency_ns: int, status: int) -> None:
        self.latencies_ns.append(latency_ns)
        if not 200 <= status < 400:
            self.non_2xx += 1


async def _python_load(port: int, path: str, duration_s: float, connections: int) -> LoadResult:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    stats = _LoadStats()
    started = time.perf_counter()
    deadline = time.monotonic() + duration_s

    async def one_connection() -> None:
        # Reconnect if the server drops us before the deadline (it should not).
        while time.monotonic() < deadline:
            try:
                _, proto = await loop.create_connection(
                    lambda: _ClientConnection(request, deadline, stats), HOST, port
                )
            except OSError:
                stats.errors += 1
                await asyncio.sleep(0.05)
                continue
            await proto.closed

    tasks = [asyncio.create_task(one_connection()) for _ in range(connections)]
    try:
        async with asyncio.timeout(duration_s + 10):
            await asyncio.gather(*tasks)
    except TimeoutError:  # connections still open well past the deadline
        stats.errors += 1
    finally:
        for task in tasks:
            task.cancel()
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies_ns)
    n = len(lat)
    return LoadResult(
        requests=n,
        duration_s=elapsed,
        rps=n / elapsed if elapsed > 0 else 0.0,
        p50_ms=_percentile(lat, 50) / 1e6,
        p90_ms=_percentile(lat, 90) / 1e6,
        p99_ms=_percentile(lat, 99) / 1e6,
        mean_ms=(sum(lat) / n / 1e6) if n else 0.0,
        max_ms=(lat[-1] / 1e6) if n else 0.0,
        errors=stats.errors,
        non_2xx=stats.non_2xx,
    )


def run_python_load(port: int, path: str, *, duration_s: float, connections: int) -> LoadResult:
    """The fallback load generator: asyncio keep-alive connections (uvloop when installed).

    One Python process: on a small machine it may saturate before a fast server does, which
    flatters the slower side of a ratio. Prefer wrk.
    """
    factory: Any = None
    if importlib.util.find_spec("uvloop"):
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_python_load(port, path, duration_s, connections))


def _percentile(sorted_values: Sequence[int], pct: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(0, math.ceil(pct / 100 * len(sorted_values)) - 1)
    return float(sorted_values[rank])


# --- statistics and reporting -----------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def spread_pct(values: Sequence[float]) -> float:
    """(max - min) / median, in percent: how far apart the rounds were."""
    mid = median(values)
    return (max(values) - min(values)) / mid * 100 if values and mid else 0.0


def machine_info() -> dict[str, Any]:
    load: tuple[float, float, float] | None
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "loadavg": load,
    }


def write_results(scenario: str, data: Mapping[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{scenario}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value: object) -> object:
    if isinstance(value, LoadResult):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
