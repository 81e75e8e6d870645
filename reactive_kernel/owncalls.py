"""Calls of the notebook's own functions and methods that change what they are given.

The analysis sees ``lst.append(x)`` change ``lst`` because ``append`` is a
known mutating method, and ``clean(df)`` change ``df`` when a cell defines
``clean`` changing its parameter.  It cannot see through a method of the
notebook's own classes (``spectrum.scale(2)`` with ``def scale(self, factor):
self.hs *= factor`` in a cell, or in ``thinkdsp.py`` beside the notebook) or
a function of its own modules (``helpers.clean(df)``, ``from helpers import
clean``): which function runs depends on what the object is.  The kernel
looks when it registers the cell: it finds the function the call reaches by
the object's type (never calling a property or ``__getattr__``), and if the
function is the notebook's own (defined in a cell, or in one of its modules:
:class:`.settings.LocalModules`), reads its source and finds which
parameters it changes in place (:func:`.analysis.function_changes`).  The
names the call gives those parameters (``self`` being the object the method
is called on) are then changed in place by the cell, as ``lst.append(x)``
changes ``lst``: cells below reading them re-run when it is edited, and
re-running it first re-runs their definers, so it never changes an object
twice.

Library code (an installed package, the standard library) is never read:
its methods stay reads, as the README documents.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable, Mapping

from .analysis import SUPER, FunctionChanges, function_changes
from .values import immutable, is_a

#: ``(name, attributes, function, given)``: see ``CellAnalysis.attribute_calls``.
AttributeCall = tuple[str, tuple[str, ...], str, tuple[tuple[int | str, str], ...]]
#: ``(function, position or keyword, name)``: see ``CellAnalysis.passed``.
Passed = tuple[str, int | str, str]

_MISSING = object()


class OwnCalls:
    """Finds the names a cell's calls of the notebook's own code change in place."""

    def __init__(self, namespace: Mapping[str, object],
                 own_module: Callable[[str], bool]) -> None:
        self.namespace = namespace
        #: Whether a module (by name) is one of the notebook's own.
        self._own_module = own_module
        #: Per function's code: what it does to its parameters.
        self._known: dict[types.CodeType, FunctionChanges] = {}

    def changed(self, attribute_calls: Iterable[AttributeCall],
                passed: Iterable[Passed] = ()) -> frozenset[str]:
        """The names these calls change in place, by what the objects are now."""
        return frozenset(name for name, _path in self.changed_paths(attribute_calls, passed))

    def changed_paths(self, attribute_calls: Iterable[AttributeCall],
                      passed: Iterable[Passed] = ()) -> frozenset[tuple[str, tuple[str, ...]]]:
        """``(name, attributes)`` for each object these calls change in place: the
        name's object itself (``()``), or one its attributes hold, through
        instances of the notebook's own classes (``box.corner.translate(30,
        20)``, or ``box.translate(30, 20)`` with ``def translate(self, dx, dy):
        self.corner.translate(dx, dy)``: ``("box", ("corner",))``)."""
        found: set[tuple[str, tuple[str, ...]]] = set()
        namespace = self.namespace
        for name, path, attribute, given in attribute_calls:
            try:
                target = self._reached(name, path, attribute)
            except Exception:  # an object answering attribute lookups its own way
                continue
            if target is None:
                continue
            function, owner, through = target
            shift = 1 if owner is not _MISSING else 0
            objects: dict[int | str, object] = {} if owner is _MISSING else {0: owner}
            for key, given_name in given:
                objects[key + shift if isinstance(key, int) else key] = \
                    namespace.get(given_name, _MISSING)
            for position, param, certain, inner in self._changes(function, objects):
                if owner is not _MISSING and position == 0:
                    if self._changes_object(name, certain):
                        found.add((name, through + inner))
                    continue
                for key, given_name in given:
                    index = key + shift if isinstance(key, int) else key
                    if index in (position, param) and self._changes_object(given_name, certain):
                        found.add((given_name, inner))
        for callee, key, given_name in passed:
            # ``from helpers import clean`` then ``clean(df)``; a cell's own
            # function passing what it is given on (``def f(d): g(d)``).
            called = namespace.get(callee)
            if type(called) is not types.FunctionType or not self._own(called):
                continue
            objects = {key: namespace.get(given_name, _MISSING)}
            for position, param, certain, inner in self._changes(called, objects):
                if key in (position, param) and self._changes_object(given_name, certain):
                    found.add((given_name, inner))
        return frozenset(found)

    def functions(self, attribute_calls: Iterable[AttributeCall],
                  ) -> list[types.FunctionType]:
        """The notebook's own functions these calls reach (``cfg.apply(6)``,
        ``helpers.setup(df)``)."""
        found = []
        for name, path, attribute, _given in attribute_calls:
            try:
                target = self._reached(name, path, attribute)
            except Exception:  # an object answering attribute lookups its own way
                continue
            if target is not None:
                found.append(target[0])
        return found

    def _changes_object(self, name: str, certain: bool) -> bool:
        if certain:
            return True
        try:
            return not immutable(self.namespace.get(name))
        except Exception:  # an object answering ``isinstance`` its own way
            return True

    def _reached(self, name: str, path: tuple[str, ...], attribute: str,
                 ) -> tuple[types.FunctionType, object, tuple[str, ...]] | None:
        """The notebook's own function ``name.path.attribute(...)`` calls, the
        object it is a method of (``_MISSING`` for a module's function), and the
        attributes leading to that object when they are instances' of the
        notebook's own classes (``box.corner.translate(...)``: ``("corner",)``)."""
        value = self.namespace.get(name, _MISSING)
        modules = instances = False
        for part in path:  # through modules (``pkg.helpers.clean``) or own instances
            if is_a(value, types.ModuleType) and not instances:
                modules = True
                value = vars(value).get(part, _MISSING)
            elif not modules and self._own_instance(value):
                instances = True
                value = vars(value).get(part, _MISSING)
            else:
                return None
        if is_a(value, type) and (modules or not path):
            return self._class_method(value, attribute, path)
        if value is _MISSING or (is_a(value, type) or is_a(value, types.FunctionType)):
            return None
        if is_a(value, types.ModuleType):
            function = vars(value).get(attribute)
            if is_a(function, types.FunctionType) and self._own(function):
                return function, _MISSING, ()
            return None
        method = self._method(value, attribute)
        if method is None:
            return None
        function, bound = method
        if bound and modules:
            return None  # (a method of an object a module holds: left as a read)
        return function, value if bound else _MISSING, path if bound else ()

    def _class_method(self, klass: type, attribute: str, path: tuple[str, ...],
                      ) -> tuple[types.FunctionType, object, tuple[str, ...]] | None:
        """The notebook's own function ``klass.attribute(...)`` calls, of one of
        the notebook's own classes: a class method, bound to the class
        (``K.bump()`` changing ``cls.n``), or a function given its object
        (``Account.deposit(acct, 10)``)."""
        module = getattr(klass, "__module__", "") or ""
        if module != "__main__" and not self._own_module(module):
            return None
        for base in klass.__mro__:
            found = vars(base).get(attribute, _MISSING)
            if found is _MISSING:
                continue
            if is_a(found, classmethod):
                # (Of a class a module holds: left as a read, as its objects' methods.)
                function = found.__func__
                return (function, klass, ()) if not path and isinstance(
                    function, types.FunctionType) and self._own(function) else None
            if is_a(found, staticmethod):
                found = found.__func__
            if is_a(found, types.FunctionType) and self._own(found):
                return found, _MISSING, ()
            return None
        return None

    def _method(self, value: object, attribute: str,
                ) -> tuple[types.FunctionType, bool] | None:
        """The notebook's own function ``value.attribute`` is, by ``value``'s type
        (never calling a property or ``__getattr__``), and whether it is bound."""
        instance = getattr(value, "__dict__", None)
        if isinstance(instance, dict) and attribute in instance:
            return None  # an attribute of the object itself
        for klass in type(value).__mro__:
            found = vars(klass).get(attribute, _MISSING)
            if found is _MISSING:
                continue
            if is_a(found, staticmethod):
                function = found.__func__
                return (function, False) if is_a(function, types.FunctionType) \
                    and self._own(function) else None
            if is_a(found, types.FunctionType) and self._own(found):
                return found, True
            return None
        return None

    def _base_method(self, value: object, function: types.FunctionType, attribute: str,
                     ) -> tuple[types.FunctionType, bool] | None:
        """The notebook's own method ``super().attribute`` reaches from
        ``function``, a method of ``value``'s class or of one of its bases."""
        try:
            order = type(value).__mro__
            for index, klass in enumerate(order):
                if not any(getattr(f, "__code__", None) is function.__code__
                           for f in vars(klass).values()):
                    continue
                for base in order[index + 1:]:
                    found = vars(base).get(attribute, _MISSING)
                    if found is _MISSING:
                        continue
                    if is_a(found, types.FunctionType) and self._own(found):
                        return found, True
                    return None
                return None
        except Exception:  # a class answering lookups its own way
            return None
        return None

    def _own_instance(self, value: object) -> bool:
        """An instance of a class of the notebook's own (a cell's or its modules')."""
        if (is_a(value, type) or is_a(value, types.ModuleType)
                or is_a(value, types.FunctionType)):
            return False
        module = getattr(type(value), "__module__", None) or ""
        return isinstance(getattr(value, "__dict__", None), dict) and (
            module == "__main__" or self._own_module(module))

    def _own(self, function: types.FunctionType) -> bool:
        return function.__globals__ is self.namespace or (
            self._own_module(function.__module__ or ""))

    def _changes(self, function: types.FunctionType,
                 objects: Mapping[int | str, object] | None = None, depth: int = 0,
                 ) -> frozenset[tuple[int, str, bool, tuple[str, ...]]]:
        """``(position, name, certain, attributes)`` for the parameters
        ``function`` changes in place, itself or by giving them to the notebook's
        own functions that do (a few calls deep), and, given the objects the call
        gives it (``objects``, by position or keyword), by calling the notebook's
        own methods changing them or an object their attributes hold
        (``self.corner.translate(dx, dy)``: ``attributes`` is ``("corner",)``)."""
        facts = self._facts(function)
        none: tuple[str, ...] = ()
        found = {(position, param, certain, none) for position, param, certain in facts.changes}
        if depth >= _DEPTH:
            return frozenset(found)
        for callee, key, position, param in facts.passes:
            inner = self._function(function.__globals__, callee)
            if inner is None or inner is function:
                continue
            given = objects.get(position, objects.get(param, _MISSING)) if objects else _MISSING
            for inner_position, inner_param, certain, attributes in self._changes(
                    inner, None if given is _MISSING else {key: given}, depth + 1):
                if key in (inner_position, inner_param):
                    found.add((position, param, certain, attributes))
        if objects:
            for position, param, path, attribute in facts.methods:
                value = objects.get(position, objects.get(param, _MISSING))
                if path == SUPER:
                    method = self._base_method(value, function, attribute)
                    path = ()
                    if method is None or method[0] is function:
                        continue
                    for inner_position, _name, _certain, attributes in self._changes(
                            method[0], {0: value}, depth + 1):
                        if inner_position == 0:
                            found.add((position, param, True, attributes))
                    continue
                try:
                    for part in path:
                        value = vars(value).get(part, _MISSING) if self._own_instance(value) \
                            else _MISSING
                    if value is _MISSING or (is_a(value, type) or is_a(value, types.ModuleType)):
                        continue
                    method = self._method(value, attribute)
                except Exception:  # an object answering attribute lookups its own way
                    continue
                if method is None or not method[1] or method[0] is function:
                    continue
                for inner_position, _name, _certain, attributes in self._changes(
                        method[0], {0: value}, depth + 1):
                    if inner_position == 0:
                        found.add((position, param, True, path + attributes))
        return frozenset(found)

    def _function(self, scope: Mapping[str, object], path: tuple[str, ...],
                  ) -> types.FunctionType | None:
        """The notebook's own function a global name (through modules) holds."""
        value = scope.get(path[0], _MISSING)
        for part in path[1:]:
            # Through modules, and the notebook's own classes (``Base.push(self, x)``).
            if not is_a(value, types.ModuleType) and not (
                    is_a(value, type) and (value.__module__ == "__main__"
                                                 or self._own_module(value.__module__))):
                return None
            value = vars(value).get(part, _MISSING)
        return value if is_a(value, types.FunctionType) and self._own(value) else None

    def _facts(self, function: types.FunctionType) -> FunctionChanges:
        code = function.__code__
        found = self._known.get(code)
        if found is None:
            try:
                found = function_changes(inspect.getsource(function))
            except Exception:  # no source (``exec`` of a string), or not Python
                found = FunctionChanges()
            if len(self._known) > 4096:
                self._known.clear()
            self._known[code] = found
        return found


#: How many calls deep a parameter given on is followed.
_DEPTH = 4
