"""Reactive widgets: a widget the user moves re-runs the cells that read it.

ipywidgets keeps a widget's state in sync with the frontend over a comm; a
frontend's ``update`` (the user dragged a slider) arrives as a ``comm_msg``
and sets the widget's traits in place.  To the graph that is an in-place change
of every name bound to the widget, made outside any cell: the cells whose reads
of those names bind to the cell holding the widget re-run (lazy mode: go
stale), in notebook order, with their outputs routed as in any cascade, and the
run's report is sent on the ``reactive`` comm (``{"type": "cascade", ...}``).
The cell that holds the widget does not re-run, and neither does a reader that
only *uses* the widget (:func:`reads_widget_value`): one that wires it up
(``slider.observe(...)``, ``button.on_click(...)``, ``jslink``, ``interact``,
``interactive_output``: re-running it would stack another handler on the widget),
displays it, or puts it in a layout (``HBox([slider])``).  A widget inside a
container (``panel = VBox([slider])``, an ``interactive``) changes the container:
cells reading ``panel.children[0].value`` re-run.  A Button has no value: a click
runs its handlers, as in stock, and re-runs nothing.  Neither does an Output
widget's state a frontend syncs back (``outputs``, ``msg_id``: JupyterLab sends
them after each output a cell writes into it, ``with out: ...``).

A widget the update changes through kernel code (an ``observe`` handler setting
another widget's value, options or bounds, ``link``) changed too: its readers
re-run in the same cascade.  A cell that only sets a widget's value
(``b.value = a.value * 2``) is no reader of ``b``: moving ``b`` does not re-run it.

No cell re-runs in a widget's cascade to re-make an object its readers change in
place (``label.value = ...``, ``history.append(slider.value)``): re-making the
cell holding the widget, or a label, would replace it under the user's hand.
Those readers change the objects as they are, as in stock.

Rapid changes coalesce: while a cascade runs (or any request), further updates
only note what changed; when it ends one more cascade runs, with the latest
values.  Nothing queues up: at most one cascade is waiting.  The comm messages
may be handled on a subshell's thread (ipykernel routes a comm's messages to the
subshell its last message came from); cascades always run on the main shell.

A cell re-run with the code of its last run re-creates its widgets: a widget
the user has moved hands its value to its successor (same name, same class);
one the user never touched, or re-created by edited code, starts from the
value in the code.

Nothing here imports ipywidgets: a kernel without it never calls this module
for anything but an unknown comm.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import contextvars
import inspect
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from .graph import CellId
from .runner import Runner
from .values import ABSENT, is_a


class _Kernel(Protocol):
    runner: Runner

    def comms_queued(self) -> bool: ...

    async def widget_cascade(self, sources: dict[CellId, set[str]],
                             parent: dict[str, Any], announce: bool = False) -> None: ...


class WidgetCascades:
    """Turns frontend widget updates into cascades (see module doc).

    ipykernel may hand a widget's comm messages to a subshell (a thread of its own,
    when the frontend asked for one): there the update is applied as usual, and the
    cascade is left to the main shell's loop, where cells run.
    """

    def __init__(self, kernel: _Kernel, handle: Callable[..., Any]) -> None:
        self.kernel = kernel
        self._handle = handle  # the comm manager's own comm_msg handler
        self._guard = threading.Lock()
        #: Widgets a frontend changed whose readers are owed a cascade (by model id).
        self._changed: dict[str, Any] = {}
        self._parent: dict[str, Any] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._main_loop: asyncio.AbstractEventLoop | None = None
        #: The context variables the main shell's requests ran with, as the
        #: latest of them left them, and a copy the cascades run apart run in.
        self._context: contextvars.Context | None = None
        self._apart: contextvars.Context | None = None
        #: model ids of widgets a frontend changed (their values are the user's).
        self.moved: set[str] = set()
        #: Serialises cascades with requests (held by every execute and graph request).
        self.lock = asyncio.Lock()

    def serial(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """What a request holds while it runs: the lock, on the main shell's loop
        (a subshell's thread has a loop of its own and runs no widget cascades)."""
        if threading.current_thread() is threading.main_thread():
            self._main_loop = asyncio.get_running_loop()
            return self._serialised()
        return contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        """The lock, held in the context variables the main shell's requests
        run with (ipykernel keeps one set for them all).  A cascade run in a
        task of its own since (:meth:`_soon`) ran in a copy of them as the
        latest request left them: what its cells set there (numpy's print
        options, ``decimal.setcontext``) is set here first, as if a request had
        run them, but for what was set for this request (ipykernel's parent)."""
        async with self.lock:
            last, apart = self._context, self._apart
            if last is not None and apart is not None:
                for variable, value in apart.items():
                    was = last.get(variable, ABSENT)
                    if was is not value and variable.get(ABSENT) is was:
                        variable.set(value)
            try:
                yield
            finally:
                self._context = contextvars.copy_context()
                self._apart = self._context.copy()

    async def comm_msg(self, stream: Any, ident: Any, msg: dict[str, Any]) -> None:
        """The shell's ``comm_msg`` handler: the comm's own handling, then a
        cascade, unless more comm messages wait (the last one runs it)."""
        content = msg.get("content") or {}
        data = content.get("data")
        widget = None
        if isinstance(data, dict) and data.get("method") == "update" \
                and _user_state(data.get("state")):
            widget = _widget(content.get("comm_id"))
        # The values of the widgets the notebook holds, to see which ones the
        # update changes through kernel code (``observe`` handlers, ``link``).
        before = self._held_values() if widget is not None else []
        handled = self._handle(stream, ident, msg)
        if inspect.isawaitable(handled):
            await handled
        if widget is not None:
            with self._guard:
                self.moved.add(str(widget.model_id))
                self._changed[str(widget.model_id)] = widget
                for other, value in before:
                    if other is not widget and _differs(_watched(other), value):
                        self._changed[str(other.model_id)] = other
                self._parent = msg
        if not self._changed or self.kernel.comms_queued():
            return
        if threading.current_thread() is not threading.main_thread():
            if self._main_loop is not None:
                self._main_loop.call_soon_threadsafe(self._soon)
            return
        self._main_loop = asyncio.get_running_loop()
        if self.lock.locked():
            # A request or a cascade is running (ipykernel hands comm messages
            # over while an async cell awaits): run after it, once.
            self._soon()
            return
        await self._drain()

    def _held_values(self) -> list[tuple[Any, object]]:
        """Each value widget a cell's kept value holds (see ``Runner.holders``),
        with its value now."""
        widgets = sys.modules.get("ipywidgets")
        if widgets is None:
            return []
        found: dict[int, tuple[Any, object]] = {}

        def note(value: object) -> bool:
            for item in _within(value, widgets.Box):
                if is_a(item, widgets.ValueWidget):
                    found[id(item)] = (item, _watched(item))
            return False

        try:
            self.kernel.runner.holders(note)
        except RuntimeError:  # a cell on the main shell changed the records meanwhile
            return []
        return list(found.values())

    def _soon(self) -> None:
        """On the main loop: drain once the running request or cascade is done.
        No request's busy status covers that run: it says busy and idle itself."""
        if self._flusher is None or self._flusher.done():
            # In the context the requests run in (see :meth:`_serialised`): what
            # the cells it re-runs set in context variables (numpy's print
            # options, ``decimal.setcontext``) stays set for the cells after it.
            self._flusher = asyncio.ensure_future(self._drain_apart())

    async def _drain(self) -> None:
        async with self._serialised():
            await self.settle()

    async def _drain_apart(self) -> None:
        async with self.lock:
            # (The context taken once the lock is held: a request that held it
            # meanwhile left the variables otherwise.)
            context, settling = self._apart, self.settle(announce=True)
            if context is None:  # no request ran yet: nothing of theirs to see
                await settling
            else:
                await asyncio.get_running_loop().create_task(settling, context=context)

    async def settle(self, announce: bool = False) -> None:
        """Run the cascades widget changes still owe (the caller holds ``lock``);
        changes made meanwhile make one more, with the latest values.  Only on the
        main shell (a subshell's request leaves them to it).  ``announce``: no
        request is running, so each cascade publishes its own busy and idle."""
        if threading.current_thread() is not threading.main_thread():
            return
        while True:
            with self._guard:
                changed, self._changed = self._changed, {}
                parent = self._parent
            if not changed or parent is None:
                return
            sources: dict[CellId, set[str]] = {}
            for widget in changed.values():
                for cell, names in self.kernel.runner.holders(_holding(widget)).items():
                    sources.setdefault(cell, set()).update(names)
            if sources:
                await self.kernel.widget_cascade(sources, parent, announce)

    def replaced(self, old: object, new: object, depth: int = 0) -> None:
        """``Runner.on_replaced``: a re-run of unchanged code re-created a widget
        (or a container of widgets: each one the user moved, by its place)."""
        widgets = sys.modules.get("ipywidgets")
        if widgets is None or type(old) is not type(new):
            return
        if is_a(old, widgets.Box) and depth < 32:
            children = old.children, getattr(new, "children", ())
            if len(children[0]) == len(children[1]):
                for was, now in zip(*children, strict=True):
                    self.replaced(was, now, depth + 1)
            return
        if not is_a(old, widgets.ValueWidget):
            return
        # (A closed widget has no comm, and no model id.)
        old_id, new_id = _model_id(old), _model_id(new)
        if old_id is None or old_id not in self.moved:
            return
        self.moved.discard(old_id)
        if new_id is None:
            return
        try:
            new.value = old.value  # type: ignore[attr-defined]
        except Exception:  # the new widget's bounds refuse it: keep the code's value
            return
        self.moved.add(new_id)


def _model_id(widget: object) -> str | None:
    comm_id = getattr(getattr(widget, "comm", None), "comm_id", None)
    return comm_id if isinstance(comm_id, str) else None


#: The traits of a value widget whose change by kernel code re-runs its readers.
WATCHED = ("value", "options", "index", "min", "max")


def _watched(widget: Any) -> tuple[object, ...]:
    return tuple(getattr(widget, name, None) for name in WATCHED)


def _differs(now: object, before: object) -> bool:
    if now is before:
        return False
    try:
        return bool(now != before)
    except Exception:  # no plain comparison (an array): another object is a change
        return True


def _holding(widget: Any) -> Callable[[object], bool]:
    """Whether a value is ``widget`` or a container holding it (at any depth)."""
    box = sys.modules["ipywidgets"].Box

    def holds(value: object) -> bool:
        return any(item is widget for item in _within(value, box))

    return holds


def _within(value: object, box: type, depth: int = 0) -> Iterator[Any]:
    """``value`` and, if it is a container widget, what it holds (32 levels down)."""
    yield value
    if is_a(value, box) and depth < 32:
        for child in value.children:
            yield from _within(child, box, depth + 1)


#: Calls that wire a widget up: re-running them would add another handler or link.
WIRING = frozenset({
    "observe", "unobserve", "on_click", "on_submit", "on_msg", "on_trait_change",
    "on_displayed", "link", "dlink", "jslink", "jsdlink", "interact", "interactive",
    "interact_manual", "interactive_output",
})
#: Calls that only show a widget or lay it out.
SHOWING = frozenset({
    "display", "Box", "HBox", "VBox", "GridBox", "Tab", "Accordion", "Stack",
    "AppLayout", "TwoByTwoLayout", "GridspecLayout",
})


def reads_widget_value(code: str, names: frozenset[str]) -> bool:
    """Whether a cell reading ``names`` (bound to widgets a user changed) reads
    what changed.  Not when it wires a widget up (a call in :data:`WIRING`
    anywhere in the cell), nor when every use of the names is a method call on
    one (``slider.close()``), a bare expression (``slider``), or an argument of a
    call in :data:`SHOWING` (``display(slider)``, ``HBox([a, b])``), directly or in a
    list, tuple, set or dict there.  Any other use reads it: an attribute
    (``slider.value``, ``panel.children``), an argument of another call (the
    function may read ``.value``), an assignment.  Code where the names do not
    appear as names (a SQL cell's placeholders) reads them."""
    tree = ast.parse(code)
    parents: dict[ast.AST, ast.AST] = {}
    uses: list[ast.Name] = []
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
        if isinstance(node, ast.Call) and _callee(node) in WIRING:
            return False
        if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
            uses.append(node)
    return not uses or any(_reads_value(use, parents) for use in uses)


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _reads_value(use: ast.Name, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(use)
    if isinstance(parent, ast.Attribute):
        # slider.observe(...) calls a method; slider.value reads; `slider.value = 5`
        # only sets it (a cell doing so would undo each move: it is no reader).
        above = parents.get(parent)
        if isinstance(parent.ctx, ast.Store) and not isinstance(above, ast.AugAssign):
            return False
        return not (isinstance(above, ast.Call) and above.func is parent)
    if isinstance(parent, ast.Expr):
        return False  # a bare `slider`: shows it
    node: ast.AST = use
    while isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        node, parent = parent, parents.get(parent)
    if isinstance(parent, ast.keyword):
        node, parent = parent, parents.get(parent)
    return not (isinstance(parent, ast.Call) and node is not parent.func
                and _callee(parent) in SHOWING)


#: State a frontend syncs back that is not a user's input: an Output widget's
#: captured outputs and the request it captures (JupyterLab's widget manager
#: sends them after every output a cell writes into it).
BOOKKEEPING = frozenset({"outputs", "msg_id"})


def _user_state(state: object) -> bool:
    """Whether an update's state holds something a user may have changed."""
    return isinstance(state, dict) and any(key not in BOOKKEEPING for key in state)


def _widget(comm_id: object) -> Any:
    """The ipywidgets widget of a comm id, if it is one."""
    widgets = sys.modules.get("ipywidgets")
    if widgets is None or not isinstance(comm_id, str):
        return None
    try:
        widget = widgets.widget_serialization["from_json"]("IPY_MODEL_" + comm_id, None)
    except Exception:
        return None
    return widget if isinstance(widget, widgets.Widget) else None
