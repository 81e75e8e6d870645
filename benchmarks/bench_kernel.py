"""Benchmarks of the reactive kernel against stock ipykernel, measured in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_kernel.py [--quick] [--json PATH]

1. ``roundtrip``: a trivial ``pass`` execute_request, from send until both the
   execute_reply and the ``idle`` status for that request arrived.  Measured with
   and without a ``cellId`` (the kernel graph is only touched with one); reactive
   and stock are measured in alternating blocks on two kernels running side by side.
2. ``chain N``: edit the root of an N-cell chain (``x0 = ...``,
   ``x{i} = x{i-1} + 1; print(x{i})``), and of an N-cell notebook in which every
   cell redefines the same name (``x = ...``, ``x = x + 1; print(x)``, so each
   cell reads the definition just above it).  Reactive: one execute_request for ``c0``
   re-runs the N-1 descendants in the kernel; timed until the last cell's printed
   value and the reply arrived.  Stock: the same N cells sent pipelined ("run all
   below" by hand); timed until the last reply and the last cell's output arrived.
3. ``graph``: pure, no kernel: analyse and register a 10,000-cell chain with
   ``DependencyGraph.set_cell``; per-cell cost of the first vs the last 100 cells.

The machine is shared and noisy: every kernel figure is a median over several
runs after warm-ups, reactive and stock runs are interleaved, and ratios are
ratios of medians.

The client checks every message's signature and parses its four JSON parts,
like a lean frontend.  ``Session.deserialize`` also parses the header dates
with dateutil (about 100 us a message): slower than a cascade publishes, so
it would time the client, not the kernel.  ``--full-deserialize`` measures
with it anyway.
"""

from __future__ import annotations

import argparse
import hmac
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import zmq
from benchlib import BenchError, finish, machine, median, percentile, ratio, verdict
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

REACTIVE_KERNEL = "reactive"
STOCK_KERNEL = "python3"
STARTUP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0  # one round trip or one registration
CASCADE_TIMEOUT = 120.0  # one whole chain re-run

TARGETS = {
    "roundtrip": 1.05,  # reactive / stock, at most
    "chain": 0.10,  # reactive / stock, at most
    "graph": 1.2,  # last-100 / first-100 per-cell cost, at most
}


DELIM = b"<IDS|MSG>"


# -- kernels ------------------------------------------------------------------


class Kernel:
    """A kernel subprocess and a blocking client with one poller over shell and iopub."""

    def __init__(self, label: str, km: KernelManager, kc: BlockingKernelClient) -> None:
        self.label = label
        self.km = km
        self.kc = kc
        self.full_deserialize = False
        self.session = kc.session
        shell = kc.shell_channel.socket
        iopub = kc.iopub_channel.socket
        assert shell is not None and iopub is not None
        self._shell = shell
        self._iopub = iopub
        self._poller = zmq.Poller()
        self._poller.register(shell, zmq.POLLIN)
        self._poller.register(iopub, zmq.POLLIN)

    @property
    def pid(self) -> int | None:
        provisioner = self.km.provisioner
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def request(self, code: str, cell: str | None = None) -> dict[str, Any]:
        """Build (not send) an execute_request, with ``metadata.cellId`` if given."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata = {"cellId": cell} if cell is not None else {}
        return self.session.msg("execute_request", content, metadata=metadata)

    def send(self, msg: dict[str, Any]) -> str:
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def messages(self, deadline: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(channel, msg)`` as they arrive; raise BenchError at the deadline."""
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise BenchError(f"{self.label}: timed out waiting for the kernel")
            ready = dict(self._poller.poll(max(1, int(remaining * 1000))))
            for socket, channel in ((self._shell, "shell"), (self._iopub, "iopub")):
                if socket not in ready:
                    continue
                while True:
                    try:
                        frames = socket.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    yield channel, self.decode(frames)

    def decode(self, frames: list[bytes]) -> dict[str, Any]:
        """Check the signature and parse a message, as a lean client does.

        ``Session.deserialize`` also turns every header date into a datetime
        with dateutil: about 100 µs a message, slower than the kernel sends
        a cascade's outputs, so the benchmark would time the client
        (``--full-deserialize`` measures with it anyway, for comparison).
        """
        if not self.full_deserialize:
            idx = frames.index(DELIM)
            signature, header, parent, metadata, content = frames[idx + 1 : idx + 6]
            mac = self.session.auth.copy() if self.session.auth else None
            if mac is not None:
                for part in (header, parent, metadata, content):
                    mac.update(part)
                if not hmac.compare_digest(mac.hexdigest().encode(), signature):
                    raise BenchError(f"{self.label}: bad message signature")
            head = orjson.loads(header)
            return {
                "header": head,
                "msg_type": head["msg_type"],
                "parent_header": orjson.loads(parent),
                "metadata": orjson.loads(metadata),
                "content": orjson.loads(content),
            }
        _idents, parts = self.session.feed_identities(frames)
        return self.session.deserialize(parts)

    def execute(
        self, code: str, cell: str | None = None, timeout: float = REQUEST_TIMEOUT
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send one request and wait for its reply and idle; return (reply, iopub msgs)."""
        msg_id = self.send(self.request(code, cell))
        reply: dict[str, Any] | None = None
        iopub: list[dict[str, Any]] = []
        idle = False
        for channel, msg in self.messages(time.perf_counter() + timeout):
            if msg["parent_header"].get("msg_id") != msg_id:
                if channel == "iopub":
                    iopub.append(msg)  # re-run outputs carry other cells' parents
                continue
            if channel == "shell":
                reply = msg
            else:
                iopub.append(msg)
                idle = idle or _is_idle(msg)
            if reply is not None and idle:
                return reply, iopub
        raise AssertionError("unreachable")

    def drain(self, quiet: float = 0.1) -> None:
        """Discard messages until nothing arrived for ``quiet`` seconds."""
        while True:
            ready = dict(self._poller.poll(int(quiet * 1000)))
            if not ready:
                return
            for socket in ready:
                while True:
                    try:
                        socket.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break


def _is_idle(msg: dict[str, Any]) -> bool:
    return msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"


def _stock_kernel_manager(tmp: Path) -> tuple[KernelManager, str]:
    """Stock ipykernel from this interpreter's environment.

    Uses the ``python3`` kernelspec if this environment has one (jupyter_client
    replaces its bare ``python`` with ``sys.executable``); otherwise a temporary
    kernelspec running ``sys.executable -m ipykernel_launcher``.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec(STOCK_KERNEL)
        if "ipykernel_launcher" in spec.argv or "ipykernel" in " ".join(spec.argv):
            return KernelManager(kernel_name=STOCK_KERNEL), f"kernelspec {STOCK_KERNEL}"
    except NoSuchKernel:
        pass
    spec_dir = tmp / "kernels" / "stock-ipykernel-bench"
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "stock ipykernel", "language": "python"})
    )
    ksm = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")])
    km = KernelManager(kernel_name="stock-ipykernel-bench", kernel_spec_manager=ksm)
    return km, "temporary kernelspec (sys.executable -m ipykernel_launcher)"


def _start(label: str, km: KernelManager, log: Path | None = None) -> Kernel:
    """Start a kernel (its stdout/stderr go to ``log``) and wait until it is ready."""
    if log is not None:
        with open(log, "ab") as out:  # the child keeps its own descriptor
            km.start_kernel(stdout=out, stderr=out)
    else:
        km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
    except Exception:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    kernel = Kernel(label, km, kc)
    kernel.drain()
    return kernel


def _stop(kernel: Kernel | None) -> None:
    if kernel is None:
        return
    try:
        kernel.kc.stop_channels()
    finally:
        kernel.km.shutdown_kernel(now=False)


FULL_DESERIALIZE = False  # set by --full-deserialize


@contextmanager
def kernel_pair(info: dict[str, Any]) -> Iterator[tuple[Kernel, Kernel]]:
    """A reactive and a stock kernel, both shut down on exit."""
    reactive: Kernel | None = None
    stock: Kernel | None = None
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as tmp:
        logs = {label: Path(tmp) / f"{label}.log" for label in ("reactive", "stock")}
        try:
            reactive = _start(
                "reactive", KernelManager(kernel_name=REACTIVE_KERNEL), logs["reactive"]
            )
            stock_km, how = _stock_kernel_manager(Path(tmp))
            stock = _start("stock", stock_km, logs["stock"])
            info.setdefault("stock_kernel", how)
            info["client_decode"] = "Session.deserialize" if FULL_DESERIALIZE else "lean"
            reactive.full_deserialize = stock.full_deserialize = FULL_DESERIALIZE
            for kernel in (reactive, stock):
                info.setdefault(f"{kernel.label}_kernel_cmd", kernel.km.format_kernel_cmd())
            yield reactive, stock
        except BaseException:
            for label, log in logs.items():
                if log.exists():
                    tail = log.read_text(errors="replace").splitlines()[-15:]
                    print(f"--- last lines of the {label} kernel's log:", *tail,
                          sep="\n", file=sys.stderr)
            raise
        finally:
            try:
                _stop(stock)
            finally:
                _stop(reactive)


def ms(ns: float) -> float:
    return ns / 1e6


# -- 1. round trip ------------------------------------------------------------------


def roundtrip_once(kernel: Kernel, code: str, cell: str | None) -> tuple[int, int]:
    """One request; returns ns until the reply, and until both reply and idle."""
    msg = kernel.request(code, cell)
    start = time.perf_counter_ns()
    msg_id = kernel.send(msg)
    t_reply = t_idle = 0
    for channel, reply in kernel.messages(time.perf_counter() + REQUEST_TIMEOUT):
        if reply["parent_header"].get("msg_id") != msg_id:
            continue
        if channel == "shell":
            t_reply = time.perf_counter_ns()
            if reply["content"]["status"] != "ok":
                raise BenchError(f"{kernel.label}: {code!r} failed: {reply['content']}")
        elif _is_idle(reply):
            t_idle = time.perf_counter_ns()
        if t_reply and t_idle:
            return t_reply - start, max(t_reply, t_idle) - start
    raise AssertionError("unreachable")


def bench_roundtrip(
    kernels: tuple[Kernel, Kernel],
    variants: dict[str, str | None],
    n: int,
    warmup: int,
    block: int,
) -> dict[str, dict[str, Any]]:
    """``pass`` round trips for each variant (name -> cellId or None) on both kernels.

    All (variant, kernel) series are interleaved in blocks of ``block`` requests,
    the order rotating every round, so drift on a shared machine hits them alike.
    Besides the ratio of medians, ``paired_ratio`` is the median over rounds of
    reactive/stock block medians measured back to back.
    """
    code = "pass"
    series = [(name, cell, kernel) for name, cell in variants.items() for kernel in kernels]
    for _name, cell, kernel in series:
        for _ in range(warmup):
            roundtrip_once(kernel, code, cell)
    samples: dict[tuple[str, str], dict[str, list[float]]] = {
        (name, kernel.label): {"reply": [], "both": []} for name, _cell, kernel in series
    }
    block_medians: dict[tuple[str, str], list[float]] = {key: [] for key in samples}
    done = 0
    rounds = 0
    while done < n:
        size = min(block, n - done)
        shift = rounds % len(series)
        for name, cell, kernel in series[shift:] + series[:shift]:
            key = (name, kernel.label)
            both: list[float] = []
            for _ in range(size):
                t_reply, t_both = roundtrip_once(kernel, code, cell)
                samples[key]["reply"].append(ms(t_reply))
                both.append(ms(t_both))
            samples[key]["both"] += both
            block_medians[key].append(median(both))
        done += size
        rounds += 1
    results: dict[str, dict[str, Any]] = {}
    for name, cell in variants.items():
        result: dict[str, Any] = {"code": code, "cellId": cell, "n": n, "warmup": warmup,
                                  "block": block}
        for kernel in kernels:
            data = samples[(name, kernel.label)]
            result[kernel.label] = {
                "reply_ms": median(data["reply"]),
                "reply_idle_ms": median(data["both"]),
                "p90_reply_idle_ms": percentile(data["both"], 0.90),
            }
        result["ratio"] = ratio(result["reactive"]["reply_idle_ms"],
                                result["stock"]["reply_idle_ms"])
        result["paired_ratio"] = median([
            ratio(r, s)
            for r, s in zip(
                block_medians[(name, "reactive")], block_medians[(name, "stock")], strict=True
            )
        ])
        result["target"] = TARGETS["roundtrip"]
        result["met"] = result["ratio"] <= TARGETS["roundtrip"]
        results[name] = result
    return results


# -- 2. chain -------------------------------------------------------------------------


def chain_code(i: int, root_value: int = 0) -> str:
    if i == 0:
        return f"x0 = {root_value}"
    return f"x{i} = x{i - 1} + 1; print(x{i})"


def redefine_code(i: int, root_value: int = 0) -> str:
    """Every cell redefines the same name from itself (``df = df.dropna()`` style)."""
    if i == 0:
        return f"x = {root_value}"
    return "x = x + 1; print(x)"


SHAPES: dict[str, Callable[[int, int], str]] = {"chain": chain_code, "redefine": redefine_code}


def cell_id(i: int) -> str:
    return f"c{i}"


@dataclass
class StreamWatch:
    """Collects stream text of one cell until its last line is ``expected``."""

    expected: str
    text: str = ""
    done_ns: int = 0

    def feed(self, text: str) -> None:
        self.text += text
        lines = self.text.strip().splitlines()
        if not self.done_ns and lines and lines[-1].strip() == self.expected:
            self.done_ns = time.perf_counter_ns()


def setup_reactive_chain(kernel: Kernel, n: int, code: Callable[[int, int], str]) -> None:
    for i in range(n):
        reply, _ = kernel.execute(code(i, 0), cell_id(i))
        if reply["content"]["status"] != "ok":
            raise BenchError(f"registering {cell_id(i)} failed: {reply['content']}")
    kernel.drain()


def reactive_chain_once(kernel: Kernel, n: int, root_value: int,
                        code: Callable[[int, int], str]) -> dict[str, Any]:
    """Edit c0; time until the last cell printed its value and the reply arrived."""
    last = cell_id(n - 1)
    expected = root_value + n - 1
    watch = StreamWatch(str(expected))
    msg = kernel.request(code(0, root_value), cell_id(0))
    start = time.perf_counter_ns()
    msg_id = kernel.send(msg)
    reply: dict[str, Any] | None = None
    t_reply = 0
    idle = False
    for channel, m in kernel.messages(time.perf_counter() + CASCADE_TIMEOUT):
        parent = m["parent_header"].get("msg_id")
        if channel == "shell":
            if parent == msg_id:
                reply, t_reply = m, time.perf_counter_ns()
        elif m["msg_type"] == "stream" and m["metadata"].get("cellId") == last:
            watch.feed(m["content"]["text"])
        elif parent == msg_id and _is_idle(m):
            idle = True
        if reply is not None and watch.done_ns and idle:
            break
    assert reply is not None
    elapsed = max(t_reply, watch.done_ns) - start
    ran = reply["metadata"].get("reactive", {}).get("ran", [])
    skipped = reply["metadata"].get("reactive", {}).get("skipped", [])
    timings = reply["metadata"].get("reactive", {}).get("timings", {})
    ok = (
        reply["content"]["status"] == "ok"
        and len(ran) == n
        and ran[0] == cell_id(0)
        and ran[-1] == last
        and not skipped
        and watch.text.strip().splitlines()[-1].strip() == str(expected)
    )
    if not ok:
        raise BenchError(
            f"reactive chain {n}: wrong result: status={reply['content']['status']} "
            f"ran={len(ran)} skipped={len(skipped)} last output={watch.text!r} "
            f"expected {expected}"
        )
    return {
        "ms": ms(elapsed),
        "ran": len(ran),
        "last_output": watch.text.strip(),
        "kernel_cell_ms_sum": float(sum(timings.values())),
    }


def stock_chain_once(kernel: Kernel, n: int, root_value: int,
                     code: Callable[[int, int], str]) -> dict[str, Any]:
    """Send the N cells pipelined; time until the last reply and last output arrived."""
    msgs = [kernel.request(code(i, root_value), cell_id(i)) for i in range(n)]
    ids = [str(m["header"]["msg_id"]) for m in msgs]
    expected = root_value + n - 1
    watch = StreamWatch(str(expected))
    replies: dict[str, dict[str, Any]] = {}
    start = time.perf_counter_ns()
    for m in msgs:
        kernel.send(m)
    t_reply = 0
    idle = False
    for channel, m in kernel.messages(time.perf_counter() + CASCADE_TIMEOUT):
        parent = m["parent_header"].get("msg_id")
        if channel == "shell":
            replies[parent] = m
            if parent == ids[-1]:
                t_reply = time.perf_counter_ns()
        elif parent == ids[-1]:
            if m["msg_type"] == "stream":
                watch.feed(m["content"]["text"])
            idle = idle or _is_idle(m)
        if t_reply and watch.done_ns and idle:
            break
    elapsed = max(t_reply, watch.done_ns) - start
    statuses = [replies[i]["content"]["status"] for i in ids if i in replies]
    if len(statuses) != n or any(s != "ok" for s in statuses):
        raise BenchError(f"stock chain {n}: {len(statuses)} replies, statuses {set(statuses)}")
    return {"ms": ms(elapsed), "last_output": watch.text.strip()}


def bench_chain(
    reactive: Kernel, stock: Kernel, n: int, runs: int, warmup: int, shape: str = "chain",
) -> dict[str, Any]:
    code = SHAPES[shape]
    setup_start = time.perf_counter()
    setup_reactive_chain(reactive, n, code)
    setup_s = time.perf_counter() - setup_start
    value = 0
    for _ in range(warmup):  # the stock warm-up also defines the cells
        value += 1
        reactive_chain_once(reactive, n, value, code)
        stock_chain_once(stock, n, value, code)
        reactive.drain()
        stock.drain()
    r_runs: list[dict[str, Any]] = []
    s_runs: list[dict[str, Any]] = []
    for run in range(runs):
        value += 1
        pair: list[tuple[Callable[..., dict[str, Any]], Kernel, list[dict[str, Any]]]] = [
            (reactive_chain_once, reactive, r_runs),
            (stock_chain_once, stock, s_runs),
        ]
        for fn, kernel, out in pair if run % 2 == 0 else pair[::-1]:
            out.append(fn(kernel, n, value, code))
            kernel.drain(0.05)
    r_ms = median([r["ms"] for r in r_runs])
    s_ms = median([r["ms"] for r in s_runs])
    r_over_s = ratio(r_ms, s_ms)
    return {
        "n": n,
        "shape": shape,
        "runs": runs,
        "setup_s": setup_s,
        "reactive_ms": r_ms,
        "stock_ms": s_ms,
        "reactive_runs_ms": [r["ms"] for r in r_runs],
        "stock_runs_ms": [r["ms"] for r in s_runs],
        "reactive_ms_per_cell": r_ms / n,
        "reactive_kernel_cell_ms_sum": median([r["kernel_cell_ms_sum"] for r in r_runs]),
        "stock_ms_per_cell": s_ms / n,
        "ran": r_runs[-1]["ran"],
        "last_output": r_runs[-1]["last_output"],
        "expected_output": str(value + n - 1),
        "ratio": r_over_s,
        "target": TARGETS["chain"],
        "met": r_over_s <= TARGETS["chain"],
    }


# -- 3. graph registration --------------------------------------------------------------


def register_chain(n: int) -> tuple[list[int], list[int]]:
    """Analyse and register an n-cell chain in a fresh graph; ns per cell for each."""
    from reactive_kernel.analysis import analyse
    from reactive_kernel.graph import CellId, DependencyGraph

    graph = DependencyGraph()
    graph_ns: list[int] = []
    analysis_ns: list[int] = []
    clock = time.perf_counter_ns
    for i in range(n):
        code = chain_code(i)
        t0 = clock()
        a = analyse(code)
        t1 = clock()
        graph.set_cell(CellId(cell_id(i)), code, a.defs, a.refs)
        t2 = clock()
        analysis_ns.append(t1 - t0)
        graph_ns.append(t2 - t1)
    if len(graph) != n or graph.parents(CellId(cell_id(n - 1))) != {
        CellId(cell_id(n - 2)): frozenset({f"x{n - 2}"})
    }:
        raise BenchError("graph: the chain was not linked as expected")
    return graph_ns, analysis_ns


def bench_graph(n: int, reps: int) -> dict[str, Any]:
    """Per-cell ``set_cell`` cost at the start and at the end of an n-cell chain.

    The whole registration is repeated ``reps`` times on fresh graphs (after an
    untimed 200-cell warm-up); figures are medians over the repetitions of each
    repetition's median over its first / last 100 cells.
    """
    register_chain(200)  # warm-up: imports, caches, the allocator
    k = min(100, n // 2)
    firsts: list[float] = []
    lasts: list[float] = []
    graph_ms: list[float] = []
    analysis_ms: list[float] = []
    analysis_us: list[float] = []
    for _ in range(reps):
        graph_ns, analysis_ns = register_chain(n)
        firsts.append(median([t / 1000 for t in graph_ns[:k]]))
        lasts.append(median([t / 1000 for t in graph_ns[-k:]]))
        graph_ms.append(ms(sum(graph_ns)))
        analysis_ms.append(ms(sum(analysis_ns)))
        analysis_us.append(median([t / 1000 for t in analysis_ns]))
    first = median(firsts)
    last = median(lasts)
    last_over_first = ratio(last, first)
    return {
        "n": n,
        "reps": reps,
        "window": k,
        "first_us": first,
        "last_us": last,
        "ratio": last_over_first,
        "ratios_per_rep": [ratio(b, a) for a, b in zip(firsts, lasts, strict=True)],
        "graph_total_ms": median(graph_ms),
        "analysis_total_ms": median(analysis_ms),
        "analysis_median_us": median(analysis_us),
        "target": TARGETS["graph"],
        "met": last_over_first <= TARGETS["graph"],
    }


# -- driver -------------------------------------------------------------------------------


@dataclass
class Config:
    rt_n: int = 300
    rt_warmup: int = 50
    rt_block: int = 25
    chains: tuple[tuple[int, str], ...] = ((100, "chain"), (300, "chain"), (100, "redefine"))
    chain_runs: int = 5
    chain_warmup: int = 1
    graph_n: int = 10_000
    graph_reps: int = 5
    extra: dict[str, Any] = field(default_factory=dict)


def print_summary(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    for key, label in (("roundtrip_anon", "pass, no cellId"), ("roundtrip_cell", "pass, cellId")):
        r = results.get(key)
        if r:
            rows.append((
                f"round trip ({label})",
                f"{r['reactive']['reply_idle_ms']:.3f} ms",
                f"{r['stock']['reply_idle_ms']:.3f} ms",
                f"{r['ratio']:.3f} (<= {r['target']}; paired {r['paired_ratio']:.3f})",
                verdict(r["met"]),
            ))
    for c in results.get("chains", []):
        rows.append((
            f"edit root, {c['n']}-cell {'chain' if c['shape'] == 'chain' else 'redefine x'}",
            f"{c['reactive_ms']:.1f} ms ({c['reactive_ms_per_cell']:.3f} ms/cell)",
            f"{c['stock_ms']:.1f} ms",
            f"{c['ratio']:.3f} (<= {c['target']})",
            verdict(c["met"]),
        ))
    g = results.get("graph")
    if g:
        rows.append((
            f"graph set_cell, {g['n']} chain",
            f"first {g['window']}: {g['first_us']:.2f} us, last: {g['last_us']:.2f} us",
            "-",
            f"{g['ratio']:.3f} (<= {g['target']})",
            verdict(g["met"]),
        ))
    headers = ("benchmark", "reactive", "stock", "ratio (target)", "target")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print("\nSummary")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if g:
        print(
            f"graph totals (median of {g['reps']}): set_cell {g['graph_total_ms']:.1f} ms, "
            f"analyse {g['analysis_total_ms']:.1f} ms for {g['n']} cells"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--only",
        choices=("roundtrip", "chain", "graph"),
        action="append",
        help="run only these benchmarks (repeatable)",
    )
    parser.add_argument(
        "--full-deserialize",
        action="store_true",
        help="decode messages with jupyter_client's Session.deserialize (dates parsed)",
    )
    args = parser.parse_args(argv)
    global FULL_DESERIALIZE
    FULL_DESERIALIZE = args.full_deserialize
    config = Config()
    if args.quick:
        config = Config(rt_n=60, rt_warmup=10, rt_block=10, chain_runs=3, graph_reps=2)
    selected = set(args.only or ("roundtrip", "chain", "graph"))

    results: dict[str, Any] = {
        "quick": args.quick,
        **machine(),
        "config": {k: v for k, v in vars(config).items() if k != "extra"},
    }
    started = time.perf_counter()
    failed = False
    try:
        if "roundtrip" in selected:
            print(f"1. round trip: {config.rt_n} x `pass` after {config.rt_warmup} warm-ups, "
                  f"blocks of {config.rt_block}, interleaved", flush=True)
            with kernel_pair(results) as kernels:
                variants = {"roundtrip_anon": None, "roundtrip_cell": "rt"}
                found = bench_roundtrip(
                    kernels, variants, config.rt_n, config.rt_warmup, config.rt_block
                )
            for key, r in found.items():
                results[key] = r
                print(
                    f"   cellId={r['cellId']!s:5} reactive "
                    f"{r['reactive']['reply_idle_ms']:.3f} ms "
                    f"(reply {r['reactive']['reply_ms']:.3f})  "
                    f"stock {r['stock']['reply_idle_ms']:.3f} ms "
                    f"(reply {r['stock']['reply_ms']:.3f})  "
                    f"ratio {r['ratio']:.3f} (paired by block {r['paired_ratio']:.3f}) "
                    f"[{verdict(r['met'])}]",
                    flush=True,
                )
        if "chain" in selected:
            results["chains"] = []
            for n, shape in config.chains:
                what = "chain" if shape == "chain" else "notebook redefining one name in every cell"
                print(f"2. edit the root of a {n}-cell {what}: median of "
                      f"{config.chain_runs} runs after {config.chain_warmup} warm-up",
                      flush=True)
                with kernel_pair(results) as (reactive, stock):
                    c = bench_chain(reactive, stock, n, config.chain_runs, config.chain_warmup,
                                    shape)
                results["chains"].append(c)
                print(
                    f"   reactive {c['reactive_ms']:.1f} ms "
                    f"({c['reactive_ms_per_cell']:.3f} ms/cell; in-kernel cell time "
                    f"{c['reactive_kernel_cell_ms_sum']:.1f} ms)  stock pipelined "
                    f"{c['stock_ms']:.1f} ms  ratio {c['ratio']:.3f} [{verdict(c['met'])}]  "
                    f"ran={c['ran']} last output {c['last_output']!r} "
                    f"(expected {c['expected_output']})  setup {c['setup_s']:.1f} s",
                    flush=True,
                )
        if "graph" in selected:
            print(f"3. graph registration of a {config.graph_n}-cell chain (no kernel), "
                  f"median of {config.graph_reps} repetitions", flush=True)
            g = bench_graph(config.graph_n, config.graph_reps)
            results["graph"] = g
            per_rep = ", ".join(f"{r:.2f}" for r in g["ratios_per_rep"])
            print(
                f"   set_cell per cell: first {g['window']} {g['first_us']:.2f} us, "
                f"last {g['window']} {g['last_us']:.2f} us, ratio {g['ratio']:.3f} "
                f"[{verdict(g['met'])}] (per repetition: "
                f"{per_rep}); totals: set_cell {g['graph_total_ms']:.1f} ms, "
                f"analyse {g['analysis_total_ms']:.1f} ms "
                f"({g['analysis_median_us']:.1f} us/cell median)",
                flush=True,
            )
    except BenchError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        results["error"] = str(err)
        failed = True
    results["elapsed_s"] = time.perf_counter() - started
    print_summary(results)
    return finish(results, args.json, failed)


if __name__ == "__main__":
    sys.exit(main())
