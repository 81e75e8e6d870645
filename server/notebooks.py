"""On-disk notebook store of the reactive server: pure file logic, no Tornado, no kernels.

Every operation takes a client path (a posix path relative to the store root, such as
``"a.ipynb"`` or ``"sub/b.ipynb"``) and either returns plain JSON-ready data or raises a
:class:`StoreError` whose ``status`` is the HTTP status the server answers with.

Invariants kept by :class:`NotebookStore`:

* **Confinement.** The store only reads, writes, renames or deletes files whose path,
  after resolving every symlink, lies inside the resolved root, has no hidden component
  (one starting with ``"."``) relative to the root, and ends in ``.ipynb``. Every call
  re-checks this; nothing is cached between calls. (Temporary files of atomic writes are
  the one exception: they are hidden siblings of the target, and never survive a call.)
* **Versions.** A notebook's version is a prefix of the SHA-256 of the file's bytes, so it
  survives server restarts and any external edit of the file changes it. Every write
  (``save``, cell operations) first compares the version the client last saw with the
  file's current one and raises :class:`VersionConflict` on mismatch, so two writers
  starting from the same version cannot both succeed.
* **Atomic writes.** A file is written to a temporary file in the same directory, flushed
  and fsynced, then moved over the target with :func:`os.replace`. Readers see either the
  old or the new bytes, never a mix, and a failed write leaves the old file untouched and
  no temporary file behind. Writes go *through* a symlink to the file it points at.
* **Models.** A notebook model is ``{"path", "version", "notebook"}`` where ``notebook`` is
  a valid nbformat v4 (minor >= 5) document made of plain ``dict``/``list``/scalars, in
  which every cell has a unique ``"id"`` and multi-line strings are joined. The model a
  write returns is exactly what :meth:`NotebookStore.get` would return right after it.
* **Format on disk.** Files are written as Jupyter writes them: UTF-8 JSON, ``indent=1``,
  sorted keys, non-ASCII characters kept as is (``ensure_ascii=False``), multi-line
  strings split into lists of lines, and a trailing newline. Unknown notebook and cell
  metadata are preserved; only the keys nbformat treats as transient
  (``orig_nbformat``, ``orig_nbformat_minor``, ``signature``, cell ``trusted``) are dropped.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import functools
import hashlib
import json
import os
import secrets
import stat
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import nbformat

__all__ = [
    "CELL_TYPES",
    "KERNELSPEC",
    "LANGUAGE_INFO",
    "AlreadyExists",
    "InvalidNotebook",
    "NotFound",
    "NotebookStore",
    "PathError",
    "StoreError",
    "VersionConflict",
]

JSONDict = dict[str, Any]
_T = TypeVar("_T")

#: The cell types a notebook may contain.
CELL_TYPES: tuple[str, ...] = ("code", "markdown", "raw")
#: Kernelspec metadata written into new notebooks.
KERNELSPEC: dict[str, str] = {
    "name": "reactive",
    "display_name": "Python 3 (reactive)",
    "language": "python",
}
#: ``language_info`` metadata written into new notebooks (the kernel refines it later).
LANGUAGE_INFO: JSONDict = {
    "name": "python",
    "mimetype": "text/x-python",
    "file_extension": ".py",
    "pygments_lexer": "ipython3",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "nbconvert_exporter": "python",
}

NOTEBOOK_SUFFIX = ".ipynb"
_MIN_MINOR = 5  # first nbformat 4 minor version with cell ids
_VERSION_CHARS = 16  # hex characters of the SHA-256 kept as the version (64 bits)
_MESSAGE_LIMIT = 300  # longest validation detail quoted back to the client
_UNTITLED_LIMIT = 10_000

# nbformat ships a py.typed marker but most of its functions are unannotated, and
# ``mypy --strict`` refuses calls to unannotated functions. This one ``Any`` alias is the
# boundary: every call into nbformat goes through it, and the results are given types here.
_nbf: Any = nbformat


# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base class of the store's errors; ``status`` is the HTTP status the server uses.

    The message (``str(error)``) is meant for the user: it never contains a traceback.
    """

    status: ClassVar[int] = 400


class PathError(StoreError):
    """The path is not acceptable: it escapes the root, is absolute, contains ``..``,
    ``\\`` or NUL, has a hidden component, goes through a symlink leading outside the
    root, or does not end in ``.ipynb``."""

    status: ClassVar[int] = 403


class NotFound(StoreError):
    """The notebook, its parent directory, or a cell id does not exist."""

    status: ClassVar[int] = 404


class AlreadyExists(StoreError):
    """Something already exists where a new notebook was to be created or renamed to."""

    status: ClassVar[int] = 409


class VersionConflict(StoreError):
    """The file changed since the client read it; ``current`` is its current version."""

    status: ClassVar[int] = 409

    def __init__(self, message: str, *, current: str) -> None:
        super().__init__(message)
        self.current = current


class InvalidNotebook(StoreError):
    """The document is not a valid notebook (bad JSON, bad cell type, schema violation)."""

    status: ClassVar[int] = 400


class WriteFailed(StoreError):
    """The file system refused the write, rename, delete or read (the disk or a
    quota is full, the directory is read-only, the file unreadable): nothing
    changed, the old file is intact.  ``status`` is 507 for a lack of space, 403
    for a lack of permission, 500 otherwise; the message says which, without a
    traceback."""

    status: ClassVar[int] = 500

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NO_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}


def _refused(err: OSError, what: str) -> WriteFailed:
    """The file system refused ``what`` (``'a.ipynb' was not saved``): the error
    for the client, saying why."""
    reason = err.strerror or str(err) or type(err).__name__
    if err.errno in _NO_SPACE:
        return WriteFailed(f"{what}: not enough space on the disk ({reason}); the file on "
                           "disk is unchanged", 507)
    status = 403 if err.errno in _NO_PERMISSION else 500
    return WriteFailed(f"{what} ({reason}); the file on disk is unchanged", status)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Location:
    """A checked client path.

    ``rel`` is the client path (posix, relative to the root), ``entry`` the directory
    entry it names (parent directories resolved, last component not), and ``real`` the
    fully resolved file. Both ``entry`` and ``real`` lie inside the root.
    """

    rel: str
    entry: Path
    real: Path


def kernel_registration(notebook: dict[str, Any]) -> dict[str, Any]:
    """A notebook as its kernel's graph needs it: the ``reactive_graph_request``
    that registers its code cells, in notebook order, with their code."""
    cells = [{"cellId": c["id"], "code": "".join(c.get("source", ""))}
             for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    return {"order": [c["cellId"] for c in cells], "register": cells}


#: The longest name of one file or directory, and of a whole path (Linux's).
_NAME_MAX, _PATH_MAX = 255, 4096

#: Bidirectional embeddings, overrides and isolates: they make a name display as
#: another (``evil\u202egpj.ipynb``).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unnamable(char: str) -> bool:
    """Characters no notebook name may hold: controls (C0, DEL, C1), lone
    surrogates (bytes that are not UTF-8, which no URL or JSON client can send
    back), and bidirectional controls."""
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


def _split_path(path: object) -> tuple[str, ...]:
    """Split a client path into its components, or raise :class:`PathError`.

    Accepted: a non-empty relative posix path whose components are all non-empty, not
    hidden (no leading ``"."``, which also excludes ``.`` and ``..``), free of NUL,
    backslashes and :func:`_unnamable` characters, and whose last component ends in
    ``.ipynb``.
    """
    if not isinstance(path, str) or not path:
        raise PathError("a notebook path must be a non-empty string")
    if "\x00" in path:
        raise PathError("a notebook path must not contain NUL characters")
    odd = next((c for c in path if _unnamable(c)), None)
    if odd is not None:
        raise PathError(f"a notebook path must not contain U+{ord(odd):04X} "
                        "(control, bidirectional-override or non-UTF-8 characters)")
    if "\\" in path:
        raise PathError(f"use '/' to separate directories, not '\\': {path!r}")
    if path.startswith("/"):
        raise PathError(f"a notebook path must be relative to the notebook root: {path!r}")
    if len(path.encode()) > _PATH_MAX:
        raise PathError(f"a notebook path must be at most {_PATH_MAX} bytes long")
    parts = tuple(path.split("/"))
    for part in parts:
        if not part:
            raise PathError(f"empty path component in {path!r}")
        if len(part.encode()) > _NAME_MAX:
            raise PathError(f"a file or directory name must be at most {_NAME_MAX} bytes "
                            f"long: {part[:40]!r}…")
        if part in (".", ".."):
            raise PathError(f"'.' and '..' are not allowed in notebook paths: {path!r}")
        if part.startswith("."):
            raise PathError(f"hidden files and directories are not accessible: {path!r}")
    if not parts[-1].endswith(NOTEBOOK_SUFFIX):
        raise PathError(f"not a notebook (the name must end in {NOTEBOOK_SUFFIX}): {path!r}")
    return parts


def _version_of(data: bytes) -> str:
    """The version string of a file's bytes: a hex prefix of their SHA-256."""
    return hashlib.sha256(data).hexdigest()[:_VERSION_CHARS]


def _plain(value: Any) -> Any:
    """Deep copy of JSON-like data with every mapping a plain ``dict`` (no NotebookNode)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _derived_cell_id(seed: str, index: int, taken: set[str]) -> str:
    """A cell id derived from ``seed`` (a file version) and the cell's position.

    Deterministic, so reading the same bytes twice gives the same ids: a client can then
    address, by id, cells of a file that stored none. Never returns an id in ``taken``.
    """
    for attempt in range(1000):
        digest = hashlib.sha256(f"{seed}:{index}:{attempt}".encode()).hexdigest()
        cell_id = digest[:8]
        if cell_id not in taken:
            return cell_id
    raise RuntimeError("could not derive a unique cell id")  # pragma: no cover


def _random_cell_id(taken: set[str]) -> str:
    """A fresh cell id from nbformat's random id helper, not in ``taken``."""
    while True:
        cell_id: str = _nbf.v4.nbbase.random_cell_id()
        if cell_id not in taken:
            return cell_id


def _validation_message(error: Exception) -> str:
    """A one-line, length-limited description of an nbformat validation error."""
    message = str(getattr(error, "message", "") or error).strip()
    first_line = message.splitlines()[0] if message else type(error).__name__
    if len(first_line) > _MESSAGE_LIMIT:
        first_line = first_line[: _MESSAGE_LIMIT - 3] + "..."
    location = "/".join(str(part) for part in getattr(error, "absolute_path", ()) or ())
    where = f" at {location}" if location else ""
    return f"invalid notebook{where}: {first_line}"


def _check_shape(doc: dict[str, Any]) -> None:
    """Check the outline of a v4 notebook: ``metadata`` an object, ``cells`` a list of
    objects, each with a known ``cell_type`` and an object as ``metadata``.

    Raises :class:`InvalidNotebook` with a message naming the offending part. The full
    schema check is nbformat's, later.
    """
    if not isinstance(doc.get("metadata"), dict):
        raise InvalidNotebook("a notebook must have a 'metadata' object")
    cells = doc.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebook("a notebook must have a list of 'cells'")
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise InvalidNotebook(f"cell {index} is not a JSON object")
        cell_type = cell.get("cell_type")
        if cell_type not in CELL_TYPES:
            raise InvalidNotebook(
                f"cell {index} has unknown cell_type {cell_type!r} "
                f"(expected one of {', '.join(CELL_TYPES)})"
            )
        if not isinstance(cell.get("metadata"), dict):
            raise InvalidNotebook(f"cell {index} must have a 'metadata' object")


def _to_node(raw: object, *, seed: str | None) -> Any:
    """Turn a decoded JSON document into a v4 (minor >= 5) NotebookNode with cell ids.

    The input is not modified. Multi-line strings are joined and transient keys dropped
    (nbformat's reader conventions); notebooks older than v4 are converted with nbformat.

    ``seed`` selects how cell ids are completed:

    * a file version (reading from disk): cells without an id, and all cells of files
      older than v4.5, get ids derived from the version and their position; a duplicated
      id is re-derived for every repeat after the first;
    * ``None`` (a document sent by a client): duplicated ids are an error, missing ids get
      fresh random ids.

    Raises :class:`InvalidNotebook`; the result is not yet schema-validated.
    """
    if not isinstance(raw, dict):
        raise InvalidNotebook("a notebook must be a JSON object")
    major = raw.get("nbformat")
    minor = raw.get("nbformat_minor", 0 if major in (1, 2) else None)
    if isinstance(major, bool) or not isinstance(major, int) or major not in _nbf.versions:
        raise InvalidNotebook(f"unsupported nbformat version {major!r} (expected 4)")
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise InvalidNotebook("'nbformat_minor' must be an integer")
    if major == 4:
        _check_shape(raw)  # before nbformat's reader, which fails obscurely on bad shapes
    had_ids = (major, minor) >= (4, _MIN_MINOR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node = _nbf.versions[major].to_notebook_json(raw, minor=minor)
            if major != 4:
                node = _nbf.convert(node, 4)
                had_ids = False  # ids made up by the conversion are random
    except (nbformat.ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidNotebook(f"not a readable notebook: {exc}") from None
    _check_shape(node)
    node["nbformat_minor"] = max(node.get("nbformat_minor", 0), _MIN_MINOR)

    cells: list[Any] = node["cells"]
    taken: set[str] = set()
    if had_ids:
        for index, cell in enumerate(cells):
            if "id" not in cell:
                continue
            cell_id = cell["id"]
            if not isinstance(cell_id, str):
                raise InvalidNotebook(f"cell {index} has a non-string id {cell_id!r}")
            if cell_id not in taken:
                taken.add(cell_id)
            elif seed is None:
                raise InvalidNotebook(f"cell {index} repeats the cell id {cell_id!r}")
            else:
                del cell["id"]  # re-derived below
    for index, cell in enumerate(cells):
        if had_ids and "id" in cell:
            continue
        cell["id"] = (
            _random_cell_id(taken) if seed is None else _derived_cell_id(seed, index, taken)
        )
        taken.add(cell["id"])
    return node


def _decode(data: bytes) -> Any:
    """Parse a file's bytes into a NotebookNode (see :func:`_to_node`); not validated."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(f"the notebook file is not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(f"the notebook file is not valid JSON: {exc}") from None
    return _to_node(raw, seed=_version_of(data))


def _validate(node: Any) -> None:
    """Validate a notebook against nbformat's schema, raising :class:`InvalidNotebook`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(node)
    except nbformat.ValidationError as exc:
        raise InvalidNotebook(_validation_message(exc)) from None


def _encode(node: Any) -> bytes:
    """Serialise a notebook the way Jupyter does (see the module docstring)."""
    text: str = _nbf.v4.writes(node)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _as_invalid(method: _Method) -> _Method:
    """A document nested too deeply for the parsers (or nbformat's own walks), or
    holding text that is not Unicode (a lone surrogate escaped in a client's
    JSON), is an invalid notebook: a 400, not the server's error."""
    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except RecursionError:
            raise InvalidNotebook("the notebook is nested too deeply to read") from None
        except UnicodeEncodeError:
            raise InvalidNotebook("the notebook holds text that is not valid Unicode "
                                  "(a lone surrogate)") from None
    return cast(_Method, checked)


def _fsync_directory(directory: Path) -> None:
    """Best-effort fsync of a directory, so a rename in it survives a crash."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` atomically (temp file + fsync + os.replace).

    The temporary file is a hidden sibling of ``target`` (so listings never show it) and
    is removed if anything fails. An existing target keeps its permission bits; a new one
    gets the usual ``0o666 & ~umask``.
    """
    directory = target.parent
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _find_cell(cells: list[Any], cell_id: str, path: str) -> int:
    """Index of the cell with ``cell_id``, or :class:`NotFound`."""
    for index, cell in enumerate(cells):
        if cell.get("id") == cell_id:
            return index
    raise NotFound(f"no cell with id {cell_id!r} in {path!r}")


def _clamp(index: int, low: int, high: int) -> int:
    """``index`` limited to ``[low, high]``; negative indexes count as 0, not from the end."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise InvalidNotebook(f"a cell index must be an integer, not {index!r}")
    return max(low, min(index, high))


def _check_cell_type(cell_type: object) -> str:
    if not isinstance(cell_type, str) or cell_type not in CELL_TYPES:
        raise InvalidNotebook(
            f"unknown cell type {cell_type!r} (expected one of {', '.join(CELL_TYPES)})"
        )
    return cell_type


def _check_metadata(metadata: object) -> JSONDict:
    if not isinstance(metadata, dict):
        raise InvalidNotebook("cell metadata must be a JSON object")
    copied: JSONDict = _plain(metadata)
    return copied


def _change_cell_type(cell: Any, cell_type: str) -> None:
    """Turn ``cell`` into a ``cell_type`` cell in place, keeping id, source and metadata.

    Becoming a code cell adds empty ``outputs`` and a null ``execution_count`` (and drops
    ``attachments``, which code cells cannot have); leaving code drops both.
    """
    if cell["cell_type"] == cell_type:
        return
    if cell_type == "code":
        cell.pop("attachments", None)
        cell["outputs"] = []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    cell["cell_type"] = cell_type


# --------------------------------------------------------------------------- store


class NotebookStore:
    """The notebooks under one root directory.

    The store keeps no state besides the resolved root: every call reads the file system
    afresh, so external edits are always seen (and detected through versions).
    """

    def __init__(self, root: str | Path) -> None:
        """Serve the notebooks under ``root``, which must be an existing directory.

        Raises :class:`NotADirectoryError` (a configuration error, not a
        :class:`StoreError`) otherwise.
        """
        resolved = Path(root).resolve()
        if not resolved.is_dir():
            raise NotADirectoryError(f"notebook root {str(root)!r} is not a directory")
        self._root = resolved

    @property
    def root(self) -> Path:
        """The resolved root directory."""
        return self._root

    # ----------------------------------------------------------------- paths

    def _locate(self, path: str) -> _Location:
        """Check a client path and resolve it, or raise :class:`PathError`.

        Besides the syntactic rules of :func:`_split_path`, the parent directory and the
        file (after following symlinks) must lie inside the root, and the resolved file's
        path relative to the root must itself obey the same rules (so a symlink cannot
        lead to a hidden file or to a file that is not a notebook).
        """
        parts = _split_path(path)
        try:
            parent = self._root.joinpath(*parts[:-1]).resolve()
            entry = parent / parts[-1]
            real = entry.resolve()
        except (OSError, RuntimeError):  # symlink loops (the error names the server's path)
            raise PathError(f"cannot resolve {path!r}: a symlink loop or an unreadable "
                            "directory") from None
        if not parent.is_relative_to(self._root) or not real.is_relative_to(self._root):
            raise PathError(f"{path!r} leads outside the notebook root")
        try:
            _split_path(real.relative_to(self._root).as_posix())
        except PathError:
            raise PathError(f"{path!r} is a link to a file that is not accessible") from None
        return _Location(rel="/".join(parts), entry=entry, real=real)

    # ----------------------------------------------------------------- reading

    def _read(self, loc: _Location) -> bytes:
        """The bytes of an existing notebook file, or :class:`NotFound`."""
        if not loc.real.is_file():
            raise NotFound(f"notebook {loc.rel!r} does not exist")
        try:
            return loc.real.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"notebook {loc.rel!r} does not exist") from None
        except OSError as err:
            raise _refused(err, f"{loc.rel!r} could not be read") from None

    @staticmethod
    def _check_version(loc: _Location, data: bytes, version: str | None) -> None:
        """Raise :class:`VersionConflict` unless ``version`` is that of ``data``."""
        current = _version_of(data)
        if version is None:
            raise VersionConflict(
                f"{loc.rel!r} already exists: someone else saved it; "
                "reload it before saving over it",
                current=current,
            )
        if version != current:
            raise VersionConflict(
                f"{loc.rel!r} was saved by someone else since you loaded it "
                f"(your version {version}, now {current}); reload it before saving",
                current=current,
            )

    @staticmethod
    def _model(rel: str, data: bytes, node: Any) -> JSONDict:
        return {"path": rel, "version": _version_of(data), "notebook": _plain(node)}

    def _commit(self, loc: _Location, node: Any) -> JSONDict:
        """Validate ``node``, write it atomically to ``loc.real``, return the new model.

        The model is decoded from the bytes just written, so it equals what :meth:`get`
        returns next.
        """
        node = _nbf.from_dict(node)
        _validate(node)
        data = _encode(node)
        try:
            _write_atomically(loc.real, data)
        except OSError as err:
            raise _refused(err, f"{loc.rel!r} was not saved") from None
        return self._model(loc.rel, data, _decode(data))

    def list(self) -> builtins.list[JSONDict]:
        """Every notebook under the root, sorted by path.

        Each entry is ``{"path": "sub/a.ipynb", "name": "a.ipynb", "last_modified":
        <ISO-8601 UTC>, "size": <bytes>}``. Hidden files and directories (which include
        ``.ipynb_checkpoints``) are skipped, symlinked directories are not descended, and
        only entries :meth:`get` would accept are listed (a symlinked notebook counts if
        it points inside the root; size and time are those of the file it points at).
        """
        found: builtins.list[JSONDict] = []
        for dirpath, dirnames, filenames in os.walk(self._root):
            dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
            for name in filenames:
                if name.startswith(".") or not name.endswith(NOTEBOOK_SUFFIX):
                    continue
                rel = (Path(dirpath) / name).relative_to(self._root).as_posix()
                try:
                    loc = self._locate(rel)
                    info = loc.real.stat()
                except (PathError, OSError):
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                modified = datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)
                found.append(
                    {
                        "path": rel,
                        "name": name,
                        "last_modified": modified.isoformat(),
                        "size": info.st_size,
                    }
                )
        # As a file browser lists them: case does not split the list in two.
        found.sort(key=lambda item: (str(item["path"]).casefold(), str(item["path"])))
        return found

    @_as_invalid
    def get(self, path: str) -> JSONDict:
        """The model ``{"path", "version", "notebook"}`` of the notebook at ``path``.

        Cells stored without ids (files older than nbformat 4.5) get ids derived from the
        file's version and their position: stable while the file is unchanged, so cell
        operations can address them; they are written to disk by the next write.
        Raises :class:`PathError`, :class:`NotFound` or :class:`InvalidNotebook`.
        """
        loc = self._locate(path)
        data = self._read(loc)
        node = _decode(data)
        _validate(node)
        return self._model(loc.rel, data, node)

    # ----------------------------------------------------------------- whole files

    def _untitled(self) -> str:
        for number in range(_UNTITLED_LIMIT):
            name = f"Untitled{number or ''}{NOTEBOOK_SUFFIX}"
            if not os.path.lexists(self._root / name):
                return name
        raise AlreadyExists("too many untitled notebooks; name the notebook yourself")

    def create(self, path: str | None = None) -> JSONDict:
        """Create a new notebook and return its model.

        ``None`` picks the first free name among ``Untitled.ipynb``, ``Untitled1.ipynb``,
        ... in the root. The parent directory must exist (:class:`NotFound`) and nothing
        may exist at ``path`` (:class:`AlreadyExists`). The notebook has one empty code
        cell and the reactive kernelspec plus Python ``language_info`` in its metadata.
        """
        loc = self._locate(self._untitled() if path is None else path)
        if os.path.lexists(loc.entry):
            raise AlreadyExists(f"{loc.rel!r} already exists")
        if not loc.entry.parent.is_dir():
            raise NotFound(f"the directory of {loc.rel!r} does not exist")
        node = _nbf.v4.new_notebook(
            cells=[_nbf.v4.new_code_cell()],
            metadata={"kernelspec": dict(KERNELSPEC), "language_info": _plain(LANGUAGE_INFO)},
        )
        return self._commit(loc, node)

    @_as_invalid
    def save(self, path: str, notebook: JSONDict, version: str | None) -> JSONDict:
        """Write a whole notebook sent by a client and return the new model.

        ``version`` is the version the client last saw. ``None`` means "create": it
        conflicts if the file exists. A string must equal the file's current version
        (:class:`VersionConflict` otherwise, carrying ``current``); if the file no longer
        exists that is :class:`NotFound` (save with ``None`` to recreate it).

        The document is normalised like a file read from disk, except that duplicated cell
        ids are rejected (missing ones get fresh ids), then validated with nbformat
        (:class:`InvalidNotebook`, nothing written). ``notebook`` itself is not modified.
        """
        loc = self._locate(path)
        if loc.real.is_dir():
            raise AlreadyExists(f"{loc.rel!r} is a directory")
        if loc.real.is_file():
            data = self._read(loc)
            self._check_version(loc, data, version)
        elif version is not None:
            raise NotFound(
                f"{loc.rel!r} no longer exists (deleted or renamed by someone else)"
            )
        elif not loc.real.parent.is_dir():
            raise NotFound(f"the directory of {loc.rel!r} does not exist")
        node = _to_node(notebook, seed=None)
        return self._commit(loc, node)

    def rename(self, path: str, new_path: str) -> JSONDict:
        """Rename (or move) a notebook and return its model under the new path.

        A symlink is renamed as a link, to the same file. Raises :class:`NotFound` if
        ``path`` does not exist or the new parent directory is missing,
        :class:`AlreadyExists` if something exists at ``new_path``. Renaming to the
        same path changes nothing.
        """
        loc = self._locate(path)
        new = self._locate(new_path)
        self._read(loc)  # must be an existing notebook file
        if new.rel == loc.rel:
            return self.get(loc.rel)
        if os.path.lexists(new.entry):
            raise AlreadyExists(f"{new.rel!r} already exists")
        if not new.entry.parent.is_dir():
            raise NotFound(f"the directory of {new.rel!r} does not exist")
        try:
            if loc.entry.is_symlink() and not os.path.isabs(os.readlink(loc.entry)):
                # A relative link moved as it is would lead elsewhere from its new
                # directory (nowhere, or out of the root): it is made anew, to its file.
                os.symlink(os.path.relpath(loc.real, new.entry.parent), new.entry)
                try:
                    os.unlink(loc.entry)
                except OSError:
                    os.unlink(new.entry)  # (the old one stays: one link, not two)
                    raise
            else:
                os.rename(loc.entry, new.entry)
        except OSError as err:
            raise _refused(err, f"{loc.rel!r} was not renamed to {new.rel!r}") from None
        return self.get(new.rel)

    def delete(self, path: str) -> None:
        """Delete a notebook (a symlink is deleted as a link); :class:`NotFound` if absent."""
        loc = self._locate(path)
        self._read(loc)
        try:
            os.unlink(loc.entry)
        except FileNotFoundError:
            raise NotFound(f"notebook {loc.rel!r} does not exist") from None
        except OSError as err:
            raise _refused(err, f"{loc.rel!r} was not deleted") from None

    # ----------------------------------------------------------------- cells

    @_as_invalid
    def _edit(
        self, path: str, version: str, change: Callable[[builtins.list[Any]], _T]
    ) -> tuple[JSONDict, _T]:
        """Read, check ``version``, apply ``change`` to the cell list, commit.

        Nothing is written if the version is stale or ``change`` raises.
        """
        loc = self._locate(path)
        data = self._read(loc)
        self._check_version(loc, data, version)
        node = _decode(data)
        result = change(node["cells"])
        return self._commit(loc, node), result

    def add_cell(
        self,
        path: str,
        version: str,
        index: int,
        cell_type: str = "code",
        source: str = "",
        metadata: JSONDict | None = None,
    ) -> tuple[JSONDict, JSONDict]:
        """Insert a new cell at ``index`` (clamped to ``[0, len(cells)]``).

        Returns the new model and the new cell as it appears in it. The id comes from
        nbformat's random id helper and differs from every other id in the notebook.
        """
        kind = _check_cell_type(cell_type)
        if not isinstance(source, str):
            raise InvalidNotebook("a cell's source must be a string")
        meta = _check_metadata({} if metadata is None else metadata)

        def insert(cells: builtins.list[Any]) -> str:
            taken = {str(cell.get("id")) for cell in cells}
            make = {
                "code": _nbf.v4.new_code_cell,
                "markdown": _nbf.v4.new_markdown_cell,
                "raw": _nbf.v4.new_raw_cell,
            }[kind]
            cell = make(source=source, metadata=meta)
            if cell["id"] in taken:
                cell["id"] = _random_cell_id(taken)
            cells.insert(_clamp(index, 0, len(cells)), cell)
            return str(cell["id"])

        model, cell_id = self._edit(path, version, insert)
        cells = model["notebook"]["cells"]
        return model, cells[_find_cell(cells, cell_id, path)]

    def update_cell(
        self,
        path: str,
        version: str,
        cell_id: str,
        *,
        source: str | None = None,
        cell_type: str | None = None,
        outputs: builtins.list[Any] | None = None,
        execution_count: int | None = None,
        metadata: JSONDict | None = None,
    ) -> JSONDict:
        """Change the given fields of one cell; ``None`` leaves a field unchanged.

        The type change is applied first (code -> other drops ``outputs`` and
        ``execution_count``; other -> code adds them empty), then ``source``, ``metadata``
        (replaced as a whole), ``outputs`` and ``execution_count``; the last two are only
        allowed on a code cell (:class:`InvalidNotebook`). Unknown id: :class:`NotFound`.
        """
        new_type = None if cell_type is None else _check_cell_type(cell_type)
        if source is not None and not isinstance(source, str):
            raise InvalidNotebook("a cell's source must be a string")
        if outputs is not None and not isinstance(outputs, builtins.list):
            raise InvalidNotebook("a cell's outputs must be a list")
        meta = None if metadata is None else _check_metadata(metadata)

        def update(cells: builtins.list[Any]) -> None:
            cell = cells[_find_cell(cells, cell_id, path)]
            if new_type is not None:
                _change_cell_type(cell, new_type)
            if source is not None:
                cell["source"] = source
            if meta is not None:
                cell["metadata"] = meta
            if (outputs is not None or execution_count is not None) and cell[
                "cell_type"
            ] != "code":
                raise InvalidNotebook("only code cells have outputs and an execution count")
            if outputs is not None:
                cell["outputs"] = _plain(outputs)
            if execution_count is not None:
                cell["execution_count"] = execution_count

        return self._edit(path, version, update)[0]

    def delete_cell(self, path: str, version: str, cell_id: str) -> JSONDict:
        """Remove one cell (the notebook may become empty); unknown id: :class:`NotFound`."""

        def remove(cells: builtins.list[Any]) -> None:
            del cells[_find_cell(cells, cell_id, path)]

        return self._edit(path, version, remove)[0]

    def move_cell(self, path: str, version: str, cell_id: str, index: int) -> JSONDict:
        """Move one cell so that it ends up at ``index`` (clamped to ``[0, len - 1]``)."""

        def move(cells: builtins.list[Any]) -> None:
            cell = cells.pop(_find_cell(cells, cell_id, path))
            cells.insert(_clamp(index, 0, len(cells)), cell)

        return self._edit(path, version, move)[0]
