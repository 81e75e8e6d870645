"""ReactiveKernel: IPythonKernel glue between Jupyter messages and the runner.

Implements DESIGN.md contract items 2-8: cell ids from ``metadata.cellId``,
``deletedCells``, anonymous console history, refusals for cycles and
ambiguous definitions, cascades with re-run output routed to each cell's own
last request (after a ``clear_output``), ``metadata.reactive`` on the reply,
lazy mode.  Planning, graph and run state live in :mod:`.runner`.
"""

from __future__ import annotations

import hmac
import os
import sys
import threading
import time
import uuid
import warnings
from contextvars import ContextVar
from typing import Any

from ipykernel.ipkernel import IPythonKernel
from traitlets import Bool, CaselessStrEnum, Float, Int, Type, observe

from . import __version__, _compat
from ._compat import fdoutput, formatters
from ._compat.compiling import CachingCompilerProxy
from ._compat.history import HistoryWriter
from .analysis import MagicNames
from .displayhook import ReactiveShell
from .graph import CellId, GraphError
from .reruns import Reruns, outcome_of_reply
from .runner import CascadeReport, Outcome, Plan, Runner
from .session import RoutingSession
from .state import Status
from .statecomm import TARGET, StatePublisher
from .widgets import WidgetCascades, reads_widget_value

#: Seconds after which a comm message noted as queued no longer delays widget cascades.
_QUEUED_FOR = 5.0
#: Seconds a cascade waits, before its first re-run, for requests on their way to be noted.
_QUEUE_SETTLE = 0.005

class ReactiveKernel(IPythonKernel):
    """IPython kernel that re-runs dependent cells.

    Responsibilities: read cell identity from requests, hand code to the
    :class:`Runner`, execute cells through IPython with the right parent
    header, publish refusals as errors, report the cascade in the reply.
    """

    implementation = "reactive_kernel"
    implementation_version = __version__
    shell_class = Type(ReactiveShell)

    mode = CaselessStrEnum(
        ["auto", "lazy"],
        default_value="auto",
        help="auto: re-run dependent cells at once. lazy: mark them stale "
        "and run them (with their stale ancestors) when they are executed.",
    ).tag(config=True)

    anonymous_cells = CaselessStrEnum(
        ["auto", "interactive", "batch"],
        default_value="auto",
        help="Requests without a cellId. interactive: a new input that redefines a "
        "name is taken as an edit of its earlier definer, so the inputs that read it "
        "re-run (jupyter console). batch: inputs run exactly as stock IPython runs "
        "them, nothing earlier ever re-runs (nbclient, papermill, scripts). auto: "
        "interactive when the request allows stdin (as consoles send), else batch.",
    ).tag(config=True)

    superseded_memory_limit = Int(
        1 << 30,
        help="Bytes of superseded values kept so that a cell above a redefinition "
        "can re-run without re-running the cells above it (df = load() then "
        "df = df.dropna() keeps both frames). Past it, the oldest are dropped and "
        "their cells re-run when a value is needed. 0 keeps none.",
    ).tag(config=True)

    fast_paths = Bool(
        True,
        help="Use the speed-ups that rely on private internals of ipykernel and "
        "IPython (reactive_kernel/_compat), on the versions they were tested with. "
        "False (or REACTIVE_KERNEL_FAST_PATHS=0 in the environment) keeps every "
        "public path.",
    ).tag(config=True)

    peek_queued = Bool(
        True,
        help="Look at shell requests as they arrive (ipykernel's shell channel thread), "
        "so a cascade leaves a cell whose own execute_request is already queued (Run All "
        "from a client that does not send reactiveCascade: false) to that request. "
        "False (or REACTIVE_KERNEL_PEEK=0): such a cell runs twice, in the cascade and "
        "by its request; outputs and values are the same.",
    ).tag(config=True)

    history_write_interval = Float(
        1.0,
        help="Write the input history to IPython's database at most this often "
        "(seconds), instead of after every input; 0: after every input, as IPython "
        "does. Ignored if HistoryManager.db_cache_size is configured above 1.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert self.shell is not None
        self._history: HistoryWriter | None = None
        self._compile_cache: CachingCompilerProxy | None = None
        self._fast = _compat.install(self, self.fast_paths, self.history_write_interval)
        fdoutput.install()
        self.reruns = Reruns(self)
        from .sql.magics import SqlMagics

        self.runner = Runner(
            self.shell.user_ns,
            transform=self.reruns.transform,
            mode=self.mode,
            cell_magics={"sql": _analyse_sql},
            budget=self.superseded_memory_limit,
            magic=lambda kind, name: self.shell.magics_manager.magics[kind].get(name),
        )
        self.publisher = StatePublisher(self.runner, self.comm_manager.register_target,
                                        send_early=self._send_comm_msg)
        self.runner.on_progress = self.publisher.progress
        self.sql = SqlMagics(self.shell)
        self.sql.table_left_over = self.runner.table_left_over
        self.shell.register_magics(self.sql)
        self.shell_handlers["reactive_graph_request"] = self.reactive_graph_request
        self.widgets = WidgetCascades(self, self.shell_handlers["comm_msg"])
        self.shell_handlers["comm_msg"] = self.widgets.comm_msg
        self.runner.on_replaced = self.widgets.replaced
        self._pending_lock = threading.Lock()
        self._pending: dict[str, str] = {}  # queued execute_request msg_id -> cellId
        #: comm_msg ids received and not handled yet -> when they arrived.
        self._queued_comms: dict[str, float] = {}
        self._reports: dict[str, CascadeReport] = {}
        self._settled = True  # see _is_pending
        self._warnings_fresh = False  # see _rerun
        self._note_warnings()
        self._note_figures()
        self._note_floats()
        self._peek = self.peek_queued and os.environ.get("REACTIVE_KERNEL_PEEK", "1") != "0"
        #: None until the first shell request: then whether the peek saw it.
        self._peek_works: bool | None = None if self._peek else False
        self.run_stale_requested = False
        from .magics import ReactiveMagics

        self.shell.register_magics(ReactiveMagics(self.shell, kernel=self))

    @property
    def banner(self) -> str:  # type: ignore[override]
        assert self.shell is not None
        return f"{self.shell.banner}Reactive kernel {__version__}: dependent cells re-run.\n"

    @observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        self.runner.mode = change["new"]
        if hasattr(self, "publisher"):
            self.publisher.mode_changed(change["new"])

    @observe("superseded_memory_limit")
    def _budget_changed(self, change: dict[str, Any]) -> None:
        self.runner.values.budget = change["new"]

    def anonymous_description(self) -> str:
        """What ``%reactive status`` says about inputs without a cell id."""
        parent = self.get_parent("shell") or {}
        allow = bool((parent.get("content") or {}).get("allow_stdin"))
        chosen = self.anonymous_mode(allow)
        how = ("a redefinition re-runs the earlier inputs that read the name"
               if chosen == "interactive" else "run as stock IPython runs them, "
               "nothing earlier re-runs")
        source = ("ReactiveKernel.anonymous_cells" if self.anonymous_cells != "auto"
                  else "this client " + ("allows" if allow else "does not allow") + " stdin")
        return f"{chosen} ({source}): {how}"

    def anonymous_mode(self, allow_stdin: bool) -> str:
        """How an input without a cellId is taken: "interactive" or "batch"."""
        if self.anonymous_cells != "auto":
            return str(self.anonymous_cells)
        return "interactive" if allow_stdin else "batch"

    # -- requests already queued (so a cascade does not run them twice) -----

    async def shell_channel_thread_main(self, msg: Any) -> None:
        """Note queued execute_requests' cell ids as they arrive."""
        if self._peek:
            self._note_pending(msg)
        await super().shell_channel_thread_main(msg)

    def _note_pending(self, msg: Any) -> None:
        assert self.session is not None
        if self._peek_works is None:
            self._peek_works = True
        try:
            _idents, frames = self.session.feed_identities(msg, copy=False)
            if not self._signed(frames):
                return  # the main thread drops it: nothing of it is waited for
            header = self.session.unpack(_frame_bytes(frames[1]))
            if header.get("msg_type") == "comm_msg":
                with self._pending_lock:
                    self._queued_comms[header.get("msg_id", "")] = time.monotonic()
                return
            if header.get("msg_type") == "comm_open":
                self._open_state_comm_early(header, frames)
                return
            if header.get("msg_type") != "execute_request":
                return
            metadata = self.session.unpack(_frame_bytes(frames[3]))
        except Exception:  # malformed: the main thread will log and drop it
            self.log.debug("Could not peek at a shell message", exc_info=True)
            return
        cell = metadata.get("cellId") if isinstance(metadata, dict) else None
        if isinstance(cell, str) and cell:
            msg_id = header.get("msg_id", "")
            self._route(msg_id, CellId(cell))  # its execute_input is tagged too
            with self._pending_lock:
                self._pending[msg_id] = cell

    def _open_state_comm_early(self, header: dict[str, Any], frames: list[Any]) -> None:
        """A ``reactive`` comm_open, seen as it arrives (signed: see
        :meth:`_note_pending`): answered at once, not after the requests queued
        before it (see :mod:`.statecomm`)."""
        assert self.session is not None
        content = self.session.unpack(_frame_bytes(frames[4]))
        if not isinstance(content, dict) or content.get("target_name") != TARGET:
            return
        comm_id = content.get("comm_id")
        if isinstance(comm_id, str) and comm_id:
            self.publisher.open_early(comm_id, header)

    def _signed(self, frames: list[Any]) -> bool:
        """Whether a message seen as it arrives is signed with the session's key
        (the main thread has not checked it yet, and drops it if not)."""
        assert self.session is not None
        if self.session.auth is None:
            return True
        parts = [_frame_bytes(f) for f in frames[1:5]]
        return hmac.compare_digest(self.session.sign(parts), _frame_bytes(frames[0]))

    def _send_comm_msg(self, comm_id: str, parent: dict[str, Any],
                       data: dict[str, object]) -> None:
        """A comm message on iopub, from any thread (ipykernel's IOPub thread
        takes it), as a comm the kernel opened would send it."""
        assert self.session is not None
        self.session.send(self.iopub_socket, "comm_msg", {"comm_id": comm_id, "data": data},
                          parent=parent, ident=f"comm-{comm_id}".encode())

    def set_parent(self, ident: Any, parent: Any, channel: str = "shell") -> None:
        if channel == "shell" and parent:
            msg_id = parent.get("header", {}).get("msg_id")
            if msg_id in self._pending or msg_id in self._queued_comms:
                with self._pending_lock:
                    self._pending.pop(msg_id, None)
                    self._queued_comms.pop(msg_id, None)
        if channel == "shell":
            _SHELL_IDENT.set(ident)  # so a re-run's parent can be switched back
            if self._peek_works is None and parent:
                # The first request reached the kernel without passing the peek: this
                # ipykernel does not call shell_channel_thread_main.  Say so, once.
                self._peek_works = False
                self.log.warning("Reactive kernel: queued requests cannot be seen on "
                                 "this ipykernel; in a Run All a cell may run twice")
        super().set_parent(ident, parent, channel)

    def comms_queued(self) -> bool:
        """Whether comm messages arrived that the kernel has not handled yet."""
        if not self._queued_comms:
            return False
        with self._pending_lock:
            # One that never reaches a handler (dropped as invalid) must not hold
            # widget cascades back for good.
            stale = time.monotonic() - _QUEUED_FOR
            for msg_id in [m for m, t in self._queued_comms.items() if t < stale]:
                del self._queued_comms[msg_id]
            return bool(self._queued_comms)

    def _pending_cells(self) -> set[CellId]:
        with self._pending_lock:
            return {CellId(c) for c in self._pending.values()}

    def _is_pending(self, cell: CellId) -> bool:
        if not self._settled:
            # The first cell a cascade would re-run: let the shell channel thread
            # note requests already on their way ("Run All" sends every cell at
            # once), so a cell whose own request follows runs once, by it.
            self._settled = True
            time.sleep(_QUEUE_SETTLE)
        if not self._pending:
            return False
        with self._pending_lock:
            return cell in self._pending.values()

    # -- the graph, the notebook order -----------------------------------------

    async def reactive_graph_request(self, stream: Any, ident: Any, parent: Any) -> None:
        """``reactive_graph_request``: order, load or remove cells; reply with the graph.

        Content (every key optional): ``{"order": [cellIds], "register":
        [{"cellId", "code"}, ...], "remove": [ids], "mode": "auto" | "lazy",
        "run_stale": true}``.  ``order`` is the notebook order (ids not
        registered yet keep their place for when they are); ``mode`` switches
        auto / lazy; ``run_stale`` runs every stale cell.
        Registering runs nothing (cells whose reads now bind to a cell that
        never ran go stale), and leaves a cell that has run with the code it
        ran (a second view of the notebook, or its file, may be behind); a
        move or a removal re-runs the cells whose reads now bind elsewhere
        (lazy mode: marks them stale).  Reply
        ``reactive_graph_reply``: ``{"status", "mode", "order", "notebook_order",
        "cells", "errors", "reactive"}`` (see :meth:`Runner.describe`).
        """
        async with self.widgets.serial():
            await self.widgets.settle()
            await self._reactive_graph_request(stream, ident, parent)

    async def _reactive_graph_request(self, stream: Any, ident: Any, parent: Any) -> None:
        assert self.session is not None
        content = parent.get("content")
        if not isinstance(content, dict):
            content = {}
        report: CascadeReport | None = None
        try:
            errors: dict[str, str] = {}
            rebound: set[CellId] = set()
            # Checked whole before anything changes: a bad request changes nothing.
            order = content.get("order")
            if order is not None and (not isinstance(order, list) or not all(
                    isinstance(c, str) and c for c in order)):
                raise ValueError("order must be a list of cell ids (strings)")
            listed = content.get("remove")
            if listed is not None and (not isinstance(listed, list) or not all(
                    isinstance(c, str) for c in listed)):
                raise ValueError("remove must be a list of cell ids (strings)")
            items = content.get("register")
            if items is not None and not isinstance(items, list):
                raise ValueError("register must be a list of {cellId, code} objects")
            mode = content.get("mode")
            if mode is not None and mode not in ("auto", "lazy"):
                raise ValueError("mode must be 'auto' or 'lazy'")
            if order is not None:
                rebound |= self.runner.set_order([CellId(c) for c in order])
            remove = [CellId(c) for c in listed or [] if c]
            rebound |= self.runner.remove(remove)
            cells = []
            for item in items or []:
                cell = item.get("cellId") if isinstance(item, dict) else None
                code = item.get("code", "") if isinstance(item, dict) else None
                if not isinstance(cell, str) or not cell or not isinstance(code, str):
                    errors[str(cell)] = "each cell needs a string cellId and code"
                    continue
                cells.append((CellId(cell), code))
            registered: set[CellId] = set()
            errors.update(self.runner.load(cells, registered))
            if mode is not None:
                self.mode = mode
            if order is not None or remove:
                plan = self.runner.plan_rebound(rebound)
                report = await self._run_plan(plan, parent, self._rerun_executor)
            # Rebound only by cells registered (pasted): stale.  Also by a move or a
            # removal (cells merged into one): re-run, as any removal's readers.
            if registered - rebound:
                plan = self.runner.plan_registered(registered - rebound)
                more = await self._run_plan(plan, parent, self._rerun_executor)
                if report is None:
                    report = more
                else:
                    report.merge(more)
            if content.get("run_stale"):
                stale = self.runner.run_stale()
                if stale is not None:
                    more = await self._run_plan(stale, parent, self._rerun_executor)
                    if report is None:
                        report = more
                    else:
                        report.merge(more)
        except Exception as err:  # never leave the requester without a reply
            self.log.exception("reactive_graph_request failed")
            reply: dict[str, Any] = {"status": "error", "ename": type(err).__name__,
                                     "evalue": str(err), "traceback": []}
        else:
            reply = {"status": "ok", "errors": errors, **self.runner.describe(),
                     "reactive": report.as_metadata() if report is not None else None}
        self.publisher.finish()
        self.session.send(stream, "reactive_graph_reply", reply, parent, ident)

    # -- execution ----------------------------------------------------------

    async def do_execute(  # type: ignore[override]
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        try:
            async with self.widgets.serial():
                await self.widgets.settle()
                return await self._do_execute(code, silent, store_history, user_expressions,
                                              allow_stdin, cell_meta=cell_meta, cell_id=cell_id)
        finally:
            if not silent:
                self.publisher.finish()
            if self._history is not None:
                self._history.note()

    async def _do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool,
        user_expressions: dict[str, Any] | None,
        allow_stdin: bool,
        *,
        cell_meta: dict[str, Any] | None,
        cell_id: str | None,
    ) -> dict[str, Any]:
        base = super().do_execute
        if silent:
            # Frontends' own housekeeping: not a cell, no graph, no cascade.
            return await base(
                code, silent, store_history, user_expressions, allow_stdin,
                cell_meta=cell_meta, cell_id=cell_id,
            )
        parent = self.get_parent("shell")
        request_id = parent["header"]["msg_id"]
        metadata = parent.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        given = metadata.get("cellId")
        listed = metadata.get("deletedCells")
        deleted = [CellId(c) for c in listed if isinstance(c, str) and c] \
            if isinstance(listed, list) else []
        trigger_reply: dict[str, Any] = {}

        async def execute(cell: CellId, cell_code: str, trigger: bool) -> Outcome:
            if trigger:
                # Cells it needed may have run first.
                self._restore_parent(parent)
                trigger_reply.update(
                    await base(
                        cell_code, False, store_history, user_expressions, allow_stdin,
                        cell_meta=cell_meta, cell_id=cell,
                    )
                )
                fdoutput.settle()  # before the next cell runs
                state = self.runner.state(cell)
                state.execution_count = trigger_reply.get("execution_count")
                self.runner.touch(cell)
                state.context = parent
                return outcome_of_reply(trigger_reply, self.shell.last_execution_result,
                                        self.shell.user_global_ns)
            return await self._rerun(cell, cell_code)

        try:
            known = self.runner.states.get(CellId(given)) if isinstance(given, str) else None
            shown = known.execution_count if known is not None else None
            try:
                if known is not None:
                    # A refusal names the cell by the count this request gives it.
                    known.execution_count = self.shell.execution_count
                plan = self.runner.submit(
                    CellId(given) if isinstance(given, str) and given else None,
                    code,
                    deleted=deleted,
                    pending=self._pending_cells(),
                    interactive=self.anonymous_mode(allow_stdin) == "interactive",
                )
            except GraphError as err:
                return self._refuse(err, parent, code, store_history)
            except BaseException:
                if known is not None:
                    known.execution_count = shown
                raise
            if known is not None:
                known.execution_count = shown
            # Its outputs go on this request from now on, also a "Not run" if it
            # is skipped or the cascade stops before it runs.
            self.runner.state(plan.trigger).context = parent
            if metadata.get("reactiveCascade") is False:
                # The client runs every cell itself, in dependency order ("Run all"):
                # this request runs its own cell (and what it needs) only.
                plan.run = [c for c in plan.run if c == plan.trigger]
                plan.stale, plan.deferred, plan.cyclic = [], [], []
                plan.alone = True
            self._route(request_id, plan.trigger)
            self.run_stale_requested = False
            report = await self._run_plan(plan, parent, execute)
            if self.run_stale_requested and not report.interrupted:
                self.run_stale_requested = False
                more = self.runner.run_stale()
                if more is not None:
                    report.merge(await self._run_plan(more, parent, execute))
        except KeyboardInterrupt:
            report = CascadeReport(interrupted=True)
        except Exception as err:  # a bug of ours: still reply, and say so
            self.log.exception("Reactive kernel failed on a request")
            self._restore_parent(parent)
            return self._refuse(err, parent, code, store_history,
                                counted=trigger_reply.get("execution_count"))
        self._reports[request_id] = report
        if not trigger_reply:
            return self._interrupted_reply(code, store_history)
        return trigger_reply

    async def widget_cascade(self, sources: dict[CellId, set[str]],
                             parent: dict[str, Any], announce: bool = False) -> None:
        """Re-run the readers of widgets a frontend changed (see :mod:`.widgets`);
        the report goes on the ``reactive`` comm, as there is no reply.  ``announce``:
        outside any request (the change came on a subshell, whose idle status has
        gone out already), the cascade says busy and idle, on the change's message,
        as a request would."""
        if announce:
            self._publish_state("busy", parent)
        try:
            await self._widget_cascade(sources, parent)
        finally:
            if announce:
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()  # the re-runs' text goes out before the idle
                self._publish_state("idle", parent)

    async def _widget_cascade(self, sources: dict[CellId, set[str]],
                              parent: dict[str, Any]) -> None:
        try:
            plan = self.runner.plan_readers(sources, reads_widget_value)
            report = await self._run_plan(plan, parent, self._rerun_executor)
        except Exception:  # a bug of ours: the kernel keeps serving
            self.log.exception("Widget cascade failed")
            return
        finally:
            self.publisher.finish()
        self.publisher.cascade({"widget": (parent.get("content") or {}).get("comm_id"),
                                "cells": sorted(sources)}, report.as_metadata())

    def _note_warnings(self) -> None:
        """A warning shown while a cell runs makes the cell a reader of the
        ``warnings`` module (:meth:`Runner.warned`): an edited filter above it
        (``warnings.filterwarnings('ignore')``) re-runs it.  Through
        ``warnings.showwarning``, which the warnings module documents as
        replaceable; a cell that replaces it turns this off."""
        show = warnings.showwarning
        runner = self.runner

        def showwarning(message: Warning | str, category: type[Warning], filename: str,
                        lineno: int, file: Any = None, line: str | None = None) -> None:
            if runner.running is not None:
                runner.warned(runner.running)
            show(message, category, filename, lineno, file, line)

        warnings.showwarning = showwarning

    def _note_figures(self) -> None:
        """A cell leaving a matplotlib figure open when it ends, with the inline
        backend (which shows and closes every figure a cell made, after it),
        drew it: it reads matplotlib's settings (:meth:`Runner.drew_figure`),
        though it may name no plotting module (``pmf.plot()``, ``nx.draw(G)``).
        Registered before the backend's own ``post_execute`` hook, so it sees
        the figures before they are closed."""
        runner = self.runner

        def drew() -> None:
            cell = runner.running
            pyplot = sys.modules.get("matplotlib.pyplot")
            if cell is None or pyplot is None \
                    or "matplotlib_inline.backend_inline" not in sys.modules:
                return  # (not asking pyplot its backend: that may resolve one)
            try:
                if pyplot.get_fignums() and "inline" in str(pyplot.get_backend()):
                    runner.drew_figure(cell)
            except Exception:  # a pyplot that cannot say: nothing noted
                pass

        self.shell.events.register("post_execute", drew)

    def _note_floats(self) -> None:
        """A cell showing a float through IPython's plain-text formatter (its
        result ``1 / 3``, ``[x, y]``, ``display(x)``) shows it as ``%precision``
        says: it reads the precision (:meth:`Runner.showed_float`).  The float
        printers pass through :func:`noting`, once IPython makes them
        (:mod:`._compat.formatters`), or else through the public ``for_type``."""
        formatter = self.shell.display_formatter.formatters.get("text/plain")
        if formatter is None:
            return
        runner = self.runner

        def noting(printer: Any) -> Any:
            def show_float(value: float, p: Any, cycle: bool) -> Any:
                if runner.running is not None:
                    runner.showed_float(runner.running)
                return printer(value, p, cycle)
            return show_float

        if _compat.private_allowed(self.fast_paths) \
                and formatters.wrap_when_made(formatter, noting):
            return
        try:
            printer = formatter.for_type(float)
        except KeyError:
            return
        formatter.for_type(float, noting(printer))

    async def _rerun_executor(self, cell: CellId, code: str, trigger: bool) -> Outcome:
        return await self._rerun(cell, code)

    async def _run_plan(self, plan: Plan, parent: dict[str, Any], execute: Any) -> CascadeReport:
        """Run a plan for the request ``parent``; re-runs publish on their own
        cells' requests, and skipped cells say why."""
        self._settled = False
        self._warnings_fresh = False
        try:
            report = await self.runner.run(plan, execute, self._is_pending)
        finally:
            self._restore_parent(parent)
        self._announce_skipped(report)
        return report

    async def _rerun(self, cell: CellId, code: str) -> Outcome:
        """Run a descendant with its own last request as parent header."""
        context = self._context_of(cell)
        if not self._warnings_fresh:
            # Python shows a warning once per place in the code: re-run cells
            # show theirs again, as running the notebook from the top does
            # (entering catch_warnings resets what has been shown).
            self._warnings_fresh = True
            with warnings.catch_warnings():
                pass
        self._route(context["header"]["msg_id"], cell)
        # Stream text is buffered per parent header, so switching parents
        # needs no flush: each cell's text still lands on its own request.
        # The request's own parent is restored once, after the cascade.
        self._switch_parent(context)
        self._publish_output(cell, context["header"], "clear_output", {"wait": False})
        outcome = await self.reruns.run(cell, code, self.runner.state(cell).execution_count)
        fdoutput.settle()  # what its child processes wrote is its own
        return outcome

    def _announce_skipped(self, report: CascadeReport) -> None:
        """Replace a skipped cell's old output by the reason it did not run,
        so no frontend keeps showing a result that is no longer true."""
        for cell in report.skipped:
            state = self.runner.state(cell)
            if state.skipped_because:
                why = f"upstream cell {self.runner.label(state.skipped_because)} failed."
            elif state.error and state.error.startswith("CycleError"):
                why = state.error
            else:
                why = "the cascade was interrupted."
            context = self._context_of(cell)
            self._route(context["header"]["msg_id"], cell)
            for msg_type, content in (
                ("clear_output", {"wait": False}),
                ("stream", {"name": "stderr", "text": f"Not run: {why}\n"}),
            ):
                self.session.send(self.iopub_socket, msg_type, content,
                                  parent=context, ident=self._iopub_topic(msg_type))
            state.output_at = time.time()
            self.runner.touch(cell)

    def _context_of(self, cell: CellId) -> dict[str, Any]:
        """The request a cell's outputs are published on: its own last one, or,
        for a cell never run through a request of its own (loaded from a
        notebook), a parent header of its own so its outputs are still tagged."""
        state = self.runner.state(cell)
        if not isinstance(state.context, dict):
            current = self.get_parent("shell")
            header = dict(current.get("header", {}), msg_id=uuid.uuid4().hex,
                          msg_type="execute_request")
            state.context = {"header": header, "parent_header": {},
                             "metadata": {"cellId": cell}, "content": {},
                             "msg_id": header["msg_id"], "msg_type": "execute_request"}
        return state.context

    def _route(self, msg_id: str, cell: CellId) -> None:
        if isinstance(self.session, RoutingSession):
            self.session.route(msg_id, cell)

    def _publish_output(
        self, cell: CellId, header: dict[str, Any], msg_type: str, content: dict[str, Any],
        topic: bytes | None = None,
    ) -> None:
        """Publish an output of a re-run cell on iopub (the lean path of a cascade)."""
        ident = topic if topic is not None else self._iopub_topic(msg_type)
        session = self.session
        if isinstance(session, RoutingSession) and self.iopub_thread is not None:
            self.iopub_thread.send_multipart(
                session.output_frames(msg_type, content, header, cell, ident)
            )
        else:
            session.send(self.iopub_socket, msg_type, content, parent=header, ident=ident)

    def _iopub_topic(self, msg_type: str) -> bytes:
        """The IOPub topic of a message, as ipykernel spells it (from the public
        ``ident`` trait, not its private helper)."""
        return f"kernel.{self.ident}.{msg_type}".encode()

    def _publish_state(self, state: str, parent: dict[str, Any]) -> None:
        """An execution state (busy, idle) on IOPub, for ``parent``."""
        self.session.send(self.iopub_socket, "status", {"execution_state": state},
                          parent=parent, ident=self._iopub_topic("status"))

    def _switch_parent(self, parent: dict[str, Any]) -> None:
        self.set_parent(_SHELL_IDENT.get(), parent, "shell")

    def _restore_parent(self, parent: dict[str, Any]) -> None:
        if self.get_parent("shell") is not parent:
            self._switch_parent(parent)

    def _refuse(self, err: Exception, parent: dict[str, Any], code: str,
                store_history: bool, counted: int | None = None) -> dict[str, Any]:
        """A cycle: publish the error, run nothing.

        Also the last resort for an unexpected failure of the kernel itself,
        so a request is never left without a reply (``counted``: the count
        its cell's run already used, if it ran)."""
        assert self.shell is not None and self.session is not None
        given = (parent.get("metadata") or {}).get("cellId")
        if isinstance(given, str):
            self._route(parent["header"]["msg_id"], CellId(given))
        # As a failed run would: the count used up, the input in the history.
        count = counted if counted is not None else self._count_input(code, store_history)
        name = type(err).__name__
        content = {
            "ename": name,
            "evalue": str(err),
            "traceback": [f"\x1b[0;31m{name}\x1b[0m: {err}"],
        }
        self.session.send(
            self.iopub_socket, "error", content, parent=parent, ident=self._iopub_topic("error")
        )
        self._reports[parent["header"]["msg_id"]] = CascadeReport(
            errors={CellId(given) if isinstance(given, str) else CellId(""): f"{name}: {err}"}
        )
        if isinstance(given, str) and CellId(given) in self.runner.graph:
            # Its code did not run: what it showed is not its result any more.
            state = self.runner.state(CellId(given))
            state.status, state.error, state.duration = Status.ERROR, f"{name}: {err}", None
            state.execution_count = count
            self.runner.touch(CellId(given))
        return {"status": "error", "execution_count": count, "user_expressions": {},
                "payload": [], **content}

    def _interrupted_reply(self, code: str, store_history: bool) -> dict[str, Any]:
        """The reply of a request whose own cell never ran (the cascade stopped
        before it): with the count its execute_input announced, used up as an
        interrupted cell's is."""
        count = self._count_input(code, store_history)
        return {
            "status": "error",
            "ename": "KeyboardInterrupt",
            "evalue": "",
            "traceback": ["KeyboardInterrupt: the cascade was interrupted"],
            "execution_count": count,
            "user_expressions": {},
            "payload": [],
        }

    def _count_input(self, code: str, store_history: bool) -> int:
        """The count of a request whose code does not run through IPython
        (refused, or interrupted before its cell ran), used up as IPython uses
        a run's: with ``store_history`` the input goes into the history under
        it and the count moves on, so ``In[n]``, ``_i<n>`` and ``%history``
        keep the numbers the frontend shows."""
        assert self.shell is not None
        count: int = self.shell.execution_count
        if store_history:
            self.shell.history_manager.store_inputs(count, self.reruns.prepared(code)[0], code)
            self.shell.execution_count += 1
        return count

    def finish_metadata(
        self, parent: dict[str, Any], metadata: dict[str, Any], reply_content: dict[str, Any]
    ) -> dict[str, Any]:
        metadata = super().finish_metadata(parent, metadata, reply_content)
        if reply_content.get("status") == "aborted" \
                and self.runner.unqueue(self._pending_cells()):
            # (ipykernel answers a request queued behind a failed one without
            # running it, stop_on_error: the cells a cascade left to it are stale.)
            self.publisher.finish()
        report = self._reports.pop(parent["header"]["msg_id"], None)
        if report is not None:
            metadata["reactive"] = report.as_metadata()
        return metadata


#: The ZMQ identity of the shell request being handled, as ``set_parent`` last
#: got it in this context: a re-run switches the parent header to its own
#: cell's request and back, and the identity goes with it.
_SHELL_IDENT: ContextVar[Any] = ContextVar("reactive_shell_ident", default=b"")


def _analyse_sql(line: str, body: str) -> MagicNames:
    """The names of a ``%%sql`` cell (sqlglot is loaded by the first one)."""
    from .sql.cells import analyse_sql

    return analyse_sql(line, body)


def _frame_bytes(frame: Any) -> bytes:
    return frame.bytes if hasattr(frame, "bytes") else bytes(frame)
