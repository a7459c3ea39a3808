#!/usr/bin/env python3
"""wasock's benchmark harness: the same C programs (bench/src) built natively (clang -O2) and to
wasm (clang -O2 + guest/c's socket library), run side by side over loopback, interleaved
(native, wasm, native, wasm, ...), several times; prints a markdown table of medians and
wasm/native ratios, and writes it to target/bench/results.md.

Only the measured side differs between the two runs: the load generator (bench/src/loadgen.c)
is always native. Servers listen on 127.0.0.1 with a port the kernel chooses and print it.

    bench/run.sh [--quick] [--debug-wasock | --wasock PATH] [--rounds N]

--quick runs tiny workloads once: it checks that everything builds and works (exit status 1
if anything fails or miscounts) and asserts no speed. Speed targets are reported, never
asserted: a busy machine must not fail a build.
"""

import argparse
import atexit
import datetime
import os
import platform
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "bench" / "src"
OUT = ROOT / "target" / "bench"
NATIVE_PROGRAMS = ["server", "poll_server", "cpu", "hello", "hostcall", "loadgen"]
WASM_PROGRAMS = ["server", "poll_server", "cpu", "hello", "hostcall"]
# Every child has a host-side timeout (run_to_end, Server.finish) and is killed at exit.
WASOCK_TIMEOUT_MS = 180_000
MAX_CONNECTIONS_FDS = 2048

MIB = 1024 * 1024


@dataclass
class Workload:
    rounds: int
    bulk_bytes: int
    bulk_write: int
    rr_count: int
    rr_size: int
    conns: int
    conn_rounds: int
    conn_size: int
    sha256_mib: int
    sieve_n: int
    sieve_repeat: int
    startup_cached_runs: int
    startup_cold_runs: int
    hostcall_null: int
    hostcall_recv: int


FULL = Workload(
    rounds=7,
    bulk_bytes=2048 * MIB,
    bulk_write=64 * 1024,
    rr_count=100_000,
    rr_size=64,
    conns=1000,
    conn_rounds=50,
    conn_size=256,
    sha256_mib=300,
    sieve_n=50_000_000,
    sieve_repeat=3,
    startup_cached_runs=20,
    startup_cold_runs=5,
    hostcall_null=5_000_000,
    hostcall_recv=200_000,
)

QUICK = Workload(
    rounds=1,
    bulk_bytes=16 * MIB,
    bulk_write=64 * 1024,
    rr_count=500,
    rr_size=64,
    conns=1000,
    conn_rounds=1,
    conn_size=256,
    sha256_mib=2,
    sieve_n=1_000_000,
    sieve_repeat=1,
    startup_cached_runs=3,
    startup_cold_runs=1,
    hostcall_null=1000,
    hostcall_recv=100,
)


class BenchError(Exception):
    """A benchmark did not work (as opposed to being slow)."""


# ---------------------------------------------------------------------------------------------
# Child processes: every one we start is tracked and killed at exit if still running.

CHILDREN: list[subprocess.Popen] = []


def kill_leftovers():
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(kill_leftovers)


def on_signal(signum, _frame):
    kill_leftovers()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, on_signal)


# --pin: the measured program on one CPU, the load generator on another (None: no pinning).
PIN = {"server": None, "client": None}


def spawn(argv, env=None, log=None, role="server"):
    cpu = PIN[role]
    p = subprocess.Popen(
        [str(a) for a in argv],
        stdout=subprocess.PIPE,
        stderr=log if log is not None else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    )
    CHILDREN.append(p)
    return p


def run_to_end(argv, timeout, env=None, role="server"):
    """Runs a command to completion; returns (status, stdout). Killed after `timeout` s."""
    p = spawn(argv, env=env, log=subprocess.STDOUT, role=role)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise BenchError(f"{' '.join(map(str, argv))} took longer than {timeout} s: {out.decode()[-500:]}")
    return p.returncode, out.decode(errors="replace")


def fields(text):
    """`key=value` pairs of a result line."""
    return dict(re.findall(r"(\w+)=(\S+)", text))


class Server:
    """A server process that prints "listening on PORT" first."""

    def __init__(self, argv, env=None, name="server"):
        self.argv = [str(a) for a in argv]
        self.log_path = OUT / "logs" / f"{name}.stderr"
        self.log = open(self.log_path, "wb")
        self.proc = spawn(argv, env=env, log=self.log)
        self.early = b""
        self.port = self._read_port(timeout=60)

    def _read_port(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.early:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise BenchError(f"{' '.join(self.argv)} did not say where it listens within {timeout} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.proc.wait(timeout=5)
                    raise BenchError(
                        f"{' '.join(self.argv)} exited with status {self.proc.returncode} before "
                        f"listening: {self.early.decode(errors='replace')} {self.stderr()}"
                    )
                self.early += chunk
        first = self.early.split(b"\n", 1)[0].decode(errors="replace")
        m = re.fullmatch(r"listening on (\d+)", first.strip())
        if not m:
            self.kill()
            raise BenchError(f"{' '.join(self.argv)} printed {first!r} instead of 'listening on PORT'")
        return int(m.group(1))

    def stderr(self):
        self.log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-1000:]
        except OSError:
            return ""

    def finish(self, timeout=60):
        """Waits for the server to exit by itself; returns its whole stdout. A non-zero exit is
        an error. Sets `cpu_seconds`: the user + system time the server used (from start-up)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            rest, _ = self.proc.communicate(timeout=timeout)
            # Children's times are added when they are reaped, and this is the only child
            # reaped in between (the load generator was reaped before).
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            self.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"{' '.join(self.argv)} did not exit within {timeout} s")
        finally:
            self.log.close()
        out = (self.early + rest).decode(errors="replace")
        if self.proc.returncode != 0:
            raise BenchError(
                f"{' '.join(self.argv)} exited with status {self.proc.returncode}: {out[-500:]} {self.stderr()}"
            )
        return out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.log.close()


# ---------------------------------------------------------------------------------------------
# Building.


def step(message):
    print(f"== {message}", flush=True)


def build_wasock(args):
    if args.wasock:
        path = Path(args.wasock).resolve()
        if not os.access(path, os.X_OK):
            raise BenchError(f"--wasock={path} is not an executable file")
        return path
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    profile = [] if args.debug_wasock else ["--release"]
    path = target / ("debug" if args.debug_wasock else "release") / "wasock"
    step(f"cargo build {' '.join([*profile, '-p', 'wasock'])} (a cold release build takes minutes)")
    # Always asked for: a no-op when up to date, and never a stale binary.
    r = subprocess.run(["cargo", "build", *profile, "-p", "wasock"], cwd=ROOT)
    if r.returncode != 0:
        raise BenchError("building wasock failed (see cargo's output above)")
    return path


def find_peer():
    """wasmtime's own CLI, 48.0.8 (the engine wasock embeds), if installed
    (scripts/install-peer.sh)."""
    for candidate in (shutil.which("wasmtime"), Path.home() / ".cargo" / "bin" / "wasmtime"):
        if not candidate or not Path(candidate).is_file():
            continue
        status, out = run_to_end([candidate, "--version"], timeout=30)
        if status == 0 and "48.0.8" in out:
            return Path(candidate)
    return None


def build_programs():
    native = OUT / "native"
    native.mkdir(parents=True, exist_ok=True)
    # The same compiler as the wasm build (clang -O2), so that only the target differs.
    step("clang -O2: native programs")
    for p in NATIVE_PROGRAMS:
        r = subprocess.run(
            ["clang", "-O2", "-Wall", "-Wextra", "-Werror", "-o", native / p, SRC / f"{p}.c"],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise BenchError(f"clang failed on bench/src/{p}.c:\n{r.stderr}")
    wasm = OUT / "wasm"
    step("clang -O2 + guest/c: wasm programs (cmake)")
    if not (wasm / "CMakeCache.txt").exists():
        r = subprocess.run(
            [
                "cmake",
                "-S",
                ROOT / "bench",
                "-B",
                wasm,
                f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'guest' / 'c' / 'wasi-toolchain-debian.cmake'}",
                "-DCMAKE_BUILD_TYPE=Release",
                "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG",
            ],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise BenchError(f"cmake configure of bench/ failed:\n{r.stdout}\n{r.stderr}")
    r = subprocess.run(["cmake", "--build", wasm, "--", "-j2"], capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"cmake build of bench/ failed:\n{r.stdout}\n{r.stderr}")
    return native, wasm


# ---------------------------------------------------------------------------------------------
# Measuring.


@dataclass
class Side:
    """How to start one program natively or under wasock."""

    name: str  # "native", "wasm" or "peer" (wasmtime's own CLI, for the CPU benchmarks)
    native_dir: Path
    wasm_dir: Path
    wasock: Path
    env: dict

    def argv(self, program, *args, extra=()):
        if self.name == "native":
            return [self.native_dir / program, *args]
        if self.name == "peer":
            return [self.wasock, "run", self.wasm_dir / f"{program}.wasm", *args]
        # No --timeout: it makes wasm loops check the engine's epoch (see the sieve with
        # --timeout row); the harness stops every child itself if it overstays.
        return [
            self.wasock,
            "--addr-pool=127.0.0.1/32",
            *extra,
            self.wasm_dir / f"{program}.wasm",
            *args,
        ]


@dataclass
class Result:
    """One benchmark's samples per side, and how to show them."""

    key: str
    title: str
    unit: str
    higher_is_better: bool
    samples: dict = field(default_factory=lambda: {"native": [], "wasm": [], "peer": []})
    notes: list = field(default_factory=list)
    # CPU seconds (user + system) of the measured process per run, when it is a server.
    cpu: dict = field(default_factory=lambda: {"native": [], "wasm": []})

    def median(self, side):
        s = self.samples[side]
        return statistics.median(s) if s else None

    def speed_ratio(self):
        """wasm relative to native as a speed: >1 is faster than native."""
        n, w = self.median("native"), self.median("wasm")
        if not n or not w:
            return None
        return w / n if self.higher_is_better else n / w


def loadgen(sides, *args, timeout=150):
    status, out = run_to_end([sides["native"].native_dir / "loadgen", *args], timeout=timeout, role="client")
    if status != 0 or "seconds=" not in out:
        raise BenchError(f"loadgen {' '.join(map(str, args))} failed (status {status}): {out[-500:]}")
    return fields(out.strip().splitlines()[-1]), out


def bench_bulk(sides, w, order):
    r = Result(
        "bulk",
        f"TCP bulk into a sink server, {w.bulk_bytes // MIB} MiB in {w.bulk_write // 1024} KiB writes",
        "MiB/s",
        True,
    )
    for _ in range(w.rounds):
        for side in order:
            s = sides[side]
            srv = Server(s.argv("server", "sink", 0, 1), env=s.env, name=f"bulk-{side}")
            try:
                f, _ = loadgen(sides, "bulk", srv.port, w.bulk_bytes, w.bulk_write)
            finally:
                out = srv.finish()
            r.cpu[side].append(srv.cpu_seconds)
            if f"{w.bulk_bytes} bytes" not in out:
                raise BenchError(f"the {side} sink did not count {w.bulk_bytes} bytes: {out}")
            r.samples[side].append(w.bulk_bytes / MIB / float(f["seconds"]))
    return r


def bench_rr(sides, w, order):
    r = Result(
        "rr", f"{w.rr_size}-byte request/response round trips, one connection", "round trips/s", True
    )
    for _ in range(w.rounds):
        for side in order:
            s = sides[side]
            srv = Server(s.argv("server", "echo", 0, 1), env=s.env, name=f"rr-{side}")
            try:
                f, _ = loadgen(sides, "rr", srv.port, w.rr_count, w.rr_size)
            finally:
                srv.finish()
            r.cpu[side].append(srv.cpu_seconds)
            r.samples[side].append(int(f["count"]) / float(f["seconds"]))
    return r


def bench_conns(sides, w, order, conns, key):
    """The poll() echo server against `conns` concurrent clients; with a `key`_rss result too,
    the server's peak RSS (VmHWM) once the load is over."""
    r = Result(
        key,
        f"poll() echo server, {conns:,} concurrent connections × {w.conn_rounds} round trip(s) "
        f"of {w.conn_size} B each",
        "s",
        False,
    )
    rss = Result(f"{key}_rss", f"poll() echo server after {conns:,} connections: peak RSS (VmHWM)", "MiB", False)
    r.errors = {"native": 0, "wasm": 0}
    for _ in range(w.rounds):
        for side in order:
            s = sides[side]
            argv = s.argv("poll_server", 0, conns, extra=[f"--max-fds={MAX_CONNECTIONS_FDS}"])
            srv = Server(argv, env=s.env, name=f"{key}-{side}")
            peak = PeakRss(srv.proc.pid)
            try:
                f, out = loadgen(sides, "conns", srv.port, conns, w.conn_rounds, w.conn_size)
            finally:
                server_out = srv.finish()
                peak.stop()
            if peak.mib is not None:
                rss.samples[side].append(peak.mib)
            r.cpu[side].append(srv.cpu_seconds)
            errors = int(f["errors"])
            m = re.search(r"served (\d+) clients, at most (\d+) at once, (\d+) errors", server_out)
            if not m:
                raise BenchError(f"the {side} poll server did not report: {server_out[-500:]}")
            errors += int(m.group(3))
            if errors:
                r.notes.append(f"{side}: {errors} errors ({out.strip()} / {m.group(0)})")
            r.errors[side] += errors
            r.samples[side].append(float(f["seconds"]))
    return [r, rss]


class PeakRss(threading.Thread):
    """Reads a running process's VmHWM every 10 ms: the last reading is its peak RSS (to
    within its last 10 ms; /proc has no memory figures for an ended process)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.mib, self.done = pid, None, threading.Event()
        self.start()

    def run(self):
        while not self.done.wait(0.01):
            try:
                self.mib = status_kib(self.pid, "VmHWM") / 1024
            except (OSError, BenchError):
                return

    def stop(self):
        self.done.set()
        self.join()


def cpu_run(side, args, timeout=300, program="cpu", wasock_options=()):
    status, out = run_to_end(side.argv(program, *args, extra=wasock_options), timeout=timeout, env=side.env)
    f = fields(out)
    if status != 0 or "seconds" not in f:
        raise BenchError(f"{program} {' '.join(map(str, args))} ({side.name}) failed (status {status}): {out[-500:]}")
    return float(f["seconds"]), f["result"]


def bench_hostcall(sides, w, order):
    """ns per call out of the program, timed inside it (bench/src/hostcall.c)."""
    null = Result(
        "hostcall_null",
        "One call out: wasm, a host call without a system call (`args_sizes_get`); native, `getppid()`",
        "ns/call",
        False,
    )
    recv = Result("hostcall_recv", "`send` + `recv` of 64 B on ready loopback TCP, per pair", "ns/call", False)
    for r, mode, n in ((null, "null", w.hostcall_null), (recv, "recv", w.hostcall_recv)):
        for _ in range(w.rounds):
            for side in order:
                seconds, result = cpu_run(sides[side], [mode, n], program="hostcall")
                if result != str(n):
                    raise BenchError(f"hostcall {mode} {n} ({side}): {result} of {n} calls answered as expected")
                r.samples[side].append(seconds / n * 1e9)
    return [null, recv]


def bench_binary(wasock):
    """The wasock binary as built (the release profile strips it)."""
    r = Result("binary", f"wasock binary size ({wasock.name}, as built)", "MB", False)
    r.samples["wasm"].append(wasock.stat().st_size / 1e6)
    return [r]


def bench_cpu(sides, w, order, key, title, args, wasock_options=()):
    """A CPU benchmark natively, on wasock and, when `wasmtime` 48.0.8 is installed, on
    `wasmtime run` (the peer column)."""
    r = Result(key, title, "s", False)
    results = set()
    for _ in range(w.rounds):
        for side in [*order, *(["peer"] if "peer" in sides and not wasock_options else [])]:
            seconds, result = cpu_run(sides[side], args, wasock_options=wasock_options)
            results.add(result)
            r.samples[side].append(seconds)
    if len(results) != 1:
        raise BenchError(f"{title}: native and wasm computed different results: {sorted(results)}")
    return r


def timed_ms(argv, env, expect):
    start = time.perf_counter()
    status, out = run_to_end(argv, timeout=120, env=env)
    ms = (time.perf_counter() - start) * 1000
    if status != 0 or out.strip() != expect:
        raise BenchError(f"{' '.join(map(str, argv))} failed (status {status}): {out[-500:]}")
    return ms


def bench_startup(sides, w):
    native, wasm = sides["native"], sides["wasm"]
    cold = Result("startup_cold", "Start-up of hello.wasm, cold (`--no-cache`), process wall time", "ms", False)
    cached = Result("startup_cached", "Start-up of hello.wasm, cached compiled module, process wall time", "ms", False)
    cache_env = dict(wasm.env, WASOCK_CACHE_DIR=str(OUT / "cache-startup"))
    shutil.rmtree(OUT / "cache-startup", ignore_errors=True)
    # The first run fills the cache (and is itself a cold start with a cache write).
    timed_ms(wasm.argv("hello"), cache_env, "hello")
    for i in range(max(w.startup_cached_runs, w.startup_cold_runs)):
        if i < w.startup_cold_runs:
            cold.samples["native"].append(timed_ms(native.argv("hello"), native.env, "hello"))
            cold.samples["wasm"].append(timed_ms(wasm.argv("hello", extra=["--no-cache"]), wasm.env, "hello"))
        if i < w.startup_cached_runs:
            cached.samples["native"].append(timed_ms(native.argv("hello"), native.env, "hello"))
            cached.samples["wasm"].append(timed_ms(wasm.argv("hello"), cache_env, "hello"))
    return [cold, cached]


def status_kib(pid, key):
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    if not m:
        raise BenchError(f"/proc/{pid}/status has no {key}")
    return int(m.group(1))


def bench_rss(sides, w, order):
    hwm = Result("rss_hwm", "Idle echo server (listening, no client): peak RSS (VmHWM)", "MiB", False)
    rss = Result("rss", "Idle echo server (listening, no client): RSS (VmRSS)", "MiB", False)
    for _ in range(w.rounds):
        for side in order:
            s = sides[side]
            srv = Server(s.argv("server", "echo", 0, 1), env=s.env, name=f"rss-{side}")
            try:
                time.sleep(0.3)
                hwm.samples[side].append(status_kib(srv.proc.pid, "VmHWM") / 1024)
                rss.samples[side].append(status_kib(srv.proc.pid, "VmRSS") / 1024)
            finally:
                srv.kill()
    return [hwm, rss]


# ---------------------------------------------------------------------------------------------
# Reporting.

# key -> (target description, test on the speed ratio or on the result)
TARGETS = {
    "bulk": ("≥ 0.98× native", lambda r: r.speed_ratio() >= 0.98),
    "rr": ("≥ 0.97× native", lambda r: r.speed_ratio() >= 0.97),
    "conns200": (
        "no errors, ≥ 0.95× native speed",
        lambda r: r.errors["wasm"] == 0 and r.speed_ratio() >= 0.95,
    ),
    "conns": (
        "no errors, ≥ 0.95× native speed",
        lambda r: r.errors["wasm"] == 0 and r.speed_ratio() >= 0.95,
    ),
    "sha256": ("≥ 0.85× native, ≥ wasmtime run", lambda r: r.speed_ratio() >= 0.85 and at_least_peer(r)),
    "sieve": ("≥ 0.85× native, ≥ wasmtime run", lambda r: r.speed_ratio() >= 0.85 and at_least_peer(r)),
    "startup_cached": ("≤ 2 ms", lambda r: r.median("wasm") <= 2),
    "rss_hwm": ("≤ 6 MiB", lambda r: r.median("wasm") <= 6),
    "binary": ("≤ 25 MB", lambda r: r.median("wasm") <= 25),
}


def at_least_peer(r):
    """wasock at least as fast as `wasmtime run` (2 % of noise allowed); true without a peer."""
    peer, wasm = r.median("peer"), r.median("wasm")
    return peer is None or wasm <= peer * 1.02


def fmt(value, unit):
    if value is None:
        return "—"
    if unit in ("MiB/s", "round trips/s"):
        return f"{value:,.0f} {unit}"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit in ("MiB", "MB"):
        return f"{value:.1f} {unit}"
    if unit == "ns/call":
        return f"{value:,.0f} ns"
    return f"{value:.3g} {unit}"


def table(results, quick):
    lines = [
        "| Benchmark | Native (median) | wasm on wasock (median) | wasm/native | `wasmtime run` (median, vs native) | Target | Met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n, w = r.median("native"), r.median("wasm")
        if r.key in ("rss", "rss_hwm") or r.key.endswith("_rss"):
            ratio = f"{w / n:.1f}× the memory" if n and w else "—"
        elif r.key.startswith("startup"):
            ratio = f"+{w - n:.1f} ms" if n and w else "—"
        else:
            ratio = f"{r.speed_ratio():.2f}" if r.speed_ratio() else "—"
        native_text, wasm_text = fmt(n, r.unit), fmt(w, r.unit)
        if r.key == "conns":
            native_text += f", {r.errors['native']} errors"
            wasm_text += f", {r.errors['wasm']} errors"
        target, met = "—", ""
        if r.key in TARGETS:
            target, test = TARGETS[r.key]
            met = "(quick: not judged)" if quick else ("yes" if test(r) else "**no**")
        peer = r.median("peer")
        peer_text = f"{fmt(peer, r.unit)} ({n / peer:.2f})" if peer and n else "—"
        lines.append(f"| {r.title} | {native_text} | {wasm_text} | {ratio} | {peer_text} | {target} | {met} |")
    return "\n".join(lines)


def cpu_table(results):
    lines = [
        "| Benchmark | Native server CPU (median) | wasm server CPU (median) | wasm/native |",
        "|---|---|---|---|",
    ]
    for r in results:
        if not r.cpu["native"] or not r.cpu["wasm"]:
            continue
        n, w = statistics.median(r.cpu["native"]), statistics.median(r.cpu["wasm"])
        ratio = f"{w / n:.2f}×" if n > 0 else "—"
        lines.append(f"| {r.key} | {n * 1000:.0f} ms | {w * 1000:.0f} ms | {ratio} |")
    return "\n".join(lines)


def samples_table(results):
    lines = ["| Benchmark | Native samples | wasm samples | `wasmtime run` samples |", "|---|---|---|---|"]
    for r in results:
        show = lambda xs: ", ".join(f"{x:.4g}" for x in xs)  # noqa: E731
        lines.append(
            f"| {r.key} ({r.unit}) | {show(r.samples['native'])} | {show(r.samples['wasm'])} | {show(r.samples['peer'])} |"
        )
    return "\n".join(lines)


def loadavg():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny workloads, one round: checks that it works")
    ap.add_argument("--debug-wasock", action="store_true", help="use target/debug/wasock (no release build)")
    ap.add_argument("--wasock", help="use this wasock binary (nothing is built)")
    ap.add_argument("--rounds", type=int, help="rounds of each benchmark (default 7, quick 1)")
    ap.add_argument(
        "--no-peer", action="store_true", help="do not install wasmtime-cli for the peer column (full runs install it once)"
    )
    ap.add_argument(
        "--pin",
        action="store_true",
        help="run the measured program on the last CPU and the load generator on the first (steadier numbers)",
    )
    ap.add_argument(
        "--only",
        help="comma-separated subset: bulk,rr,conns200,conns,sha256,sieve,sieve_timeout,startup,rss,hostcall,binary",
    )
    args = ap.parse_args()
    w = QUICK if args.quick else FULL
    if args.rounds:
        w.rounds = max(1, args.rounds)
    only = set(args.only.split(",")) if args.only else None
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            print("bench: --pin needs two CPUs", file=sys.stderr)
            return 1
        PIN["client"], PIN["server"] = cpus[0], cpus[-1]
    want = lambda k: only is None or k in only  # noqa: E731

    # The load generator and wasock each raise their soft fd limit to the hard limit (so does
    # run.sh); the hard limit must leave room for every connection plus a few.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < w.conns + 64:
        if not args.quick:
            print(f"bench: the fd hard limit ({hard}) is too low for {w.conns} connections; raise it", file=sys.stderr)
            return 1
        w.conns = max(10, hard - 64)
        print(f"bench: fd hard limit {hard}: the quick run uses {w.conns} connections", flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    started = time.monotonic()
    try:
        wasock = build_wasock(args)
        native_dir, wasm_dir = build_programs()
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1

    if not args.quick and not args.no_peer:
        # The peer is built once and kept; a failure only leaves its column empty.
        if subprocess.run([ROOT / "scripts" / "install-peer.sh"]).returncode != 0:
            print("bench: wasmtime-cli could not be installed: no peer column", flush=True)
    env = dict(os.environ, WASOCK_CACHE_DIR=str(OUT / "cache"))
    sides = {
        "native": Side("native", native_dir, wasm_dir, wasock, env),
        "wasm": Side("wasm", native_dir, wasm_dir, wasock, env),
    }
    peer = find_peer()
    if peer:
        sides["peer"] = Side("peer", native_dir, wasm_dir, peer, env)
    order = ["native", "wasm"]
    load_before = loadavg()
    pinning = "no CPU pinning"
    if args.pin:
        pinning = f"measured program on CPU {PIN['server']}, load generator on CPU {PIN['client']}"
    header = [
        f"wasock benchmark, {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}"
        f"{' (quick mode: functional check only, speeds not judged)' if args.quick else ''}",
        f"host: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"wasock: {wasock.relative_to(ROOT) if wasock.is_relative_to(ROOT) else wasock}",
        f"peer: {peer or 'none (wasmtime 48.0.8 not on PATH or in ~/.cargo/bin)'}",
        f"rounds: {w.rounds}, interleaved native/wasm; {pinning}; "
        f"load average before: {load_before}",
    ]
    print("\n".join(header), flush=True)

    results = []
    failures = []
    plan = [
        ("bulk", lambda: [bench_bulk(sides, w, order)]),
        ("rr", lambda: [bench_rr(sides, w, order)]),
        ("conns200", lambda: bench_conns(sides, w, order, min(200, w.conns), "conns200")),
        ("conns", lambda: bench_conns(sides, w, order, w.conns, "conns")),
        (
            "sha256",
            lambda: [
                bench_cpu(sides, w, order, "sha256", f"CPU: SHA-256 of {w.sha256_mib} MiB", ["sha256", w.sha256_mib])
            ],
        ),
        (
            "sieve",
            lambda: [
                bench_cpu(
                    sides,
                    w,
                    order,
                    "sieve",
                    f"CPU: sieve of Eratosthenes below {w.sieve_n:,}, ×{w.sieve_repeat}",
                    ["sieve", w.sieve_n, w.sieve_repeat],
                )
            ],
        ),
        (
            "sieve_timeout",
            lambda: [
                bench_cpu(
                    sides,
                    w,
                    order,
                    "sieve_timeout",
                    "CPU: the same sieve, wasock with `--timeout` (its loops check the epoch)",
                    ["sieve", w.sieve_n, w.sieve_repeat],
                    wasock_options=[f"--timeout={WASOCK_TIMEOUT_MS}"],
                )
            ],
        ),
        ("startup", lambda: bench_startup(sides, w)),
        ("rss", lambda: bench_rss(sides, w, order)),
        ("hostcall", lambda: bench_hostcall(sides, w, order)),
        ("binary", lambda: bench_binary(wasock)),
    ]
    try:
        for key, run in plan:
            if not want(key):
                continue
            step(f"{key} (load {loadavg()})")
            try:
                for r in run():
                    results.append(r)
                    n, m = r.median("native"), r.median("wasm")
                    print(f"   {r.key}: native {fmt(n, r.unit)}, wasm {fmt(m, r.unit)}", flush=True)
                    if getattr(r, "errors", {}).get("wasm") or getattr(r, "errors", {}).get("native"):
                        failures.append(f"{r.key}: {'; '.join(r.notes)}")
            except BenchError as e:
                print(f"   FAILED: {e}", flush=True)
                failures.append(f"{key}: {e}")
    finally:
        kill_leftovers()

    footer = [
        f"load average after: {loadavg()}; took {time.monotonic() - started:.0f} s",
        "wasm/native is wasm's speed relative to native (throughput ratio, or native time / wasm time):"
        " above 1 is faster than native. Start-up shows the time wasock adds to a native process start.",
    ]
    report = "\n".join(
        [
            *header,
            "",
            table(results, args.quick),
            "",
            *footer,
            *(["", "Failures:", *[f"- {f}" for f in failures]] if failures else []),
            "",
            "CPU time (user + system) of the server process per run, start-up included; less"
            " sensitive to scheduling than the wall-clock numbers above:",
            "",
            cpu_table(results),
            "",
            "All samples:",
            "",
            samples_table(results),
            "",
        ]
    )
    (OUT / "results.md").write_text(report)
    print()
    print(report)
    print(f"(written to {(OUT / 'results.md').relative_to(ROOT)})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
