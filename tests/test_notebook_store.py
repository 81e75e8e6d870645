"""Tests of the on-disk notebook store (server/notebooks.py): pure file tests, no kernels."""

from __future__ import annotations

import copy
import errno
import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest

from reactive_server.notebooks import (
    KERNELSPEC,
    LANGUAGE_INFO,
    AlreadyExists,
    InvalidNotebook,
    NotebookStore,
    NotFound,
    PathError,
    StoreError,
    VersionConflict,
    WriteFailed,
)

# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def store(root: Path) -> NotebookStore:
    return NotebookStore(root)


def snapshot(directory: Path) -> dict[str, Any]:
    """Every entry under ``directory`` (hidden ones too): file bytes, link targets, dirs."""
    result: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = path.relative_to(directory).as_posix()
            if path.is_symlink():
                result[key] = ("link", os.readlink(path))
            elif path.is_dir():
                result[key] = "dir"
            else:
                result[key] = path.read_bytes()
    return result


def version_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def cell(cell_id: str, cell_type: str = "code", source: Any = "", **extra: Any) -> dict[str, Any]:
    """A cell as the store returns it."""
    result: dict[str, Any] = {"id": cell_id, "cell_type": cell_type, "source": source,
                              "metadata": extra.pop("metadata", {})}
    if cell_type == "code":
        result["outputs"] = extra.pop("outputs", [])
        result["execution_count"] = extra.pop("execution_count", None)
    result.update(extra)
    return result


def notebook(*cells: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata or {}, "cells": list(cells)}


def ids(model: dict[str, Any]) -> list[str]:
    return [c["id"] for c in model["notebook"]["cells"]]


def stream(text: Any) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


@pytest.fixture
def three(store: NotebookStore) -> dict[str, Any]:
    """A saved notebook with cells a (code), b (markdown), c (code)."""
    return store.save(
        "three.ipynb",
        notebook(
            cell("a", source="x = 1", outputs=[stream("1\n")], execution_count=1),
            cell("b", "markdown", "# Title"),
            cell("c", source="y = x + 1"),
        ),
        None,
    )


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("error", "status"),
    [(StoreError, 400), (PathError, 403), (NotFound, 404), (AlreadyExists, 409),
     (VersionConflict, 409), (InvalidNotebook, 400)],
)
def test_error_statuses(error: type[StoreError], status: int) -> None:
    assert issubclass(error, StoreError)
    assert error.status == status


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        NotebookStore(tmp_path / "missing")
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        NotebookStore(tmp_path / "file")


# ----------------------------------------------------------------------------- create/get/list


def test_create_get_list_round_trip(store: NotebookStore, root: Path) -> None:
    model = store.create("first.ipynb")
    path = root / "first.ipynb"
    [cell_id] = ids(model)
    assert model == {
        "path": "first.ipynb",
        "version": version_of(path),
        "notebook": {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO},
            "cells": [cell(cell_id)],
        },
    }
    assert KERNELSPEC == {"name": "reactive", "display_name": "Python 3 (reactive)",
                          "language": "python"}
    assert LANGUAGE_INFO["name"] == "python"
    assert store.get("first.ipynb") == model

    on_disk = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(on_disk)
    assert (on_disk.nbformat, on_disk.nbformat_minor) >= (4, 5)
    assert [c.id for c in on_disk.cells] == [cell_id]

    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n "cells": [\n  {\n')  # indent=1, like Jupyter
    assert text.endswith("}\n")

    [entry] = store.list()
    stat = path.stat()
    modified = datetime.fromisoformat(entry.pop("last_modified"))
    assert entry == {"path": "first.ipynb", "name": "first.ipynb", "size": stat.st_size}
    assert modified.utcoffset() == timedelta(0)
    assert abs(modified.timestamp() - stat.st_mtime) < 1e-3


def test_list_is_recursive_sorted_and_skips_hidden(
    store: NotebookStore, root: Path, tmp_path: Path
) -> None:
    for rel in ["b.ipynb", "a.ipynb", "sub/c.ipynb", "sub/deeper/d.ipynb", "Z.ipynb"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        store.create(rel)
    for rel in [".hidden/x.ipynb", ".ipynb_checkpoints/a-checkpoint.ipynb", "sub/.y.ipynb",
                "notes.txt", "dir.ipynb/inner.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{}")
    (tmp_path / "outside.ipynb").write_text("{}")
    (root / "escape.ipynb").symlink_to(tmp_path / "outside.ipynb")
    (root / "inside-link.ipynb").symlink_to(root / "a.ipynb")

    listing = store.list()
    # Sorted as a file browser sorts, case aside.
    assert [e["path"] for e in listing] == [
        "a.ipynb", "b.ipynb", "inside-link.ipynb", "sub/c.ipynb", "sub/deeper/d.ipynb", "Z.ipynb",
    ]
    assert [e["name"] for e in listing] == [
        "a.ipynb", "b.ipynb", "inside-link.ipynb", "c.ipynb", "d.ipynb", "Z.ipynb",
    ]
    for entry in listing:
        assert entry["size"] == (root / entry["path"]).stat().st_size
        assert datetime.fromisoformat(entry["last_modified"]).utcoffset() == timedelta(0)


def test_list_of_empty_root(store: NotebookStore) -> None:
    assert store.list() == []


def test_untitled_numbering(store: NotebookStore, root: Path) -> None:
    (root / "sub").mkdir()
    store.create("sub/Untitled.ipynb")  # only the root counts
    assert [store.create()["path"] for _ in range(3)] == [
        "Untitled.ipynb", "Untitled1.ipynb", "Untitled2.ipynb",
    ]
    store.delete("Untitled1.ipynb")
    assert store.create()["path"] == "Untitled1.ipynb"
    assert store.create()["path"] == "Untitled3.ipynb"


def test_create_existing_and_missing_directory(store: NotebookStore, root: Path) -> None:
    first = store.create("a.ipynb")
    before = snapshot(root)
    with pytest.raises(AlreadyExists):
        store.create("a.ipynb")
    with pytest.raises(NotFound):
        store.create("nodir/a.ipynb")
    assert snapshot(root) == before
    assert store.get("a.ipynb") == first


def test_new_cell_ids_are_unique(store: NotebookStore) -> None:
    assert len({ids(store.create())[0] for _ in range(20)}) == 20


# ----------------------------------------------------------------------------- save


def test_save_with_right_version(store: NotebookStore, root: Path) -> None:
    created = store.create("a.ipynb")
    metadata = {"kernelspec": KERNELSPEC, "custom": {"nested": [1, "é"]}, "jupytext": {"x": 1}}
    doc = notebook(
        cell("one", source="print('✓ héllo')\nprint(2)", metadata={"tags": ["t"], "mine": 1},
             outputs=[stream("✓ héllo\n2\n")], execution_count=3),
        cell("two", "markdown", "*text*", attachments={}),
        cell("three", "raw", "raw text"),
        metadata=metadata,
    )
    sent = copy.deepcopy(doc)
    saved = store.save("a.ipynb", doc, created["version"])
    assert doc == sent  # the argument is not modified
    assert saved == {"path": "a.ipynb", "version": version_of(root / "a.ipynb"), "notebook": doc}
    assert saved["version"] != created["version"]
    assert store.get("a.ipynb") == saved

    data = (root / "a.ipynb").read_bytes()
    assert "✓ héllo".encode() in data  # ensure_ascii=False
    assert data.endswith(b"}\n")
    assert json.loads(data)["metadata"]["custom"] == {"nested": [1, "é"]}
    on_disk = nbformat.read(root / "a.ipynb", as_version=4)
    nbformat.validate(on_disk)
    assert [c.id for c in on_disk.cells] == ["one", "two", "three"]


def test_save_same_content_keeps_version(store: NotebookStore) -> None:
    created = store.create("a.ipynb")
    again = store.save("a.ipynb", created["notebook"], created["version"])
    assert again == created


def test_save_with_stale_version_conflicts(store: NotebookStore, root: Path) -> None:
    base = store.create("a.ipynb")
    theirs = copy.deepcopy(base["notebook"])
    theirs["cells"][0]["source"] = "theirs"
    mine = copy.deepcopy(base["notebook"])
    mine["cells"][0]["source"] = "mine"

    saved = store.save("a.ipynb", theirs, base["version"])
    before = snapshot(root)
    with pytest.raises(VersionConflict) as info:
        store.save("a.ipynb", mine, base["version"])
    assert info.value.current == saved["version"]
    assert info.value.status == 409
    assert "someone else" in str(info.value)
    assert snapshot(root) == before
    assert store.get("a.ipynb")["notebook"]["cells"][0]["source"] == "theirs"


def test_save_none_version(store: NotebookStore, root: Path) -> None:
    created = store.save("new.ipynb", notebook(cell("c1", source="1")), None)
    assert created == {
        "path": "new.ipynb",
        "version": version_of(root / "new.ipynb"),
        "notebook": notebook(cell("c1", source="1")),
    }
    before = snapshot(root)
    with pytest.raises(VersionConflict) as info:
        store.save("new.ipynb", notebook(), None)
    assert info.value.current == created["version"]
    assert "someone else" in str(info.value)
    assert snapshot(root) == before


def test_save_with_version_of_deleted_file(store: NotebookStore, root: Path) -> None:
    created = store.create("a.ipynb")
    store.delete("a.ipynb")
    with pytest.raises(NotFound):
        store.save("a.ipynb", created["notebook"], created["version"])
    with pytest.raises(NotFound):
        store.save("nodir/a.ipynb", created["notebook"], None)
    assert snapshot(root) == {}


def test_external_edit_changes_version(store: NotebookStore, root: Path) -> None:
    created = store.create("a.ipynb")
    path = root / "a.ipynb"
    doc = json.loads(path.read_text())
    doc["metadata"]["edited"] = True
    path.write_text(json.dumps(doc))
    with pytest.raises(VersionConflict) as info:
        store.save("a.ipynb", created["notebook"], created["version"])
    assert info.value.current == version_of(path)
    with pytest.raises(VersionConflict):
        store.add_cell("a.ipynb", created["version"], 0)
    assert store.get("a.ipynb")["notebook"]["metadata"]["edited"] is True


def test_save_assigns_missing_cell_ids(store: NotebookStore) -> None:
    doc = notebook(cell("keep"), cell("x", "markdown", "m"))
    del doc["cells"][1]["id"]
    saved = store.save("a.ipynb", doc, None)
    first, second = ids(saved)
    assert first == "keep"
    assert second and second != "keep"
    assert "id" not in doc["cells"][1]


def test_save_accepts_multiline_lists_and_joins_them(store: NotebookStore) -> None:
    doc = notebook(cell("a", source=["x = 1\n", "y = 2"], outputs=[stream(["1\n", "2\n"])]))
    saved = store.save("a.ipynb", doc, None)
    assert saved["notebook"]["cells"] == [cell("a", source="x = 1\ny = 2",
                                               outputs=[stream("1\n2\n")])]


INVALID_DOCUMENTS = {
    "not an object": [],
    "unknown major version": {"nbformat": 9, "nbformat_minor": 0, "metadata": {}, "cells": []},
    "no minor version": {"nbformat": 4, "metadata": {}, "cells": []},
    "no metadata": {"nbformat": 4, "nbformat_minor": 5, "cells": []},
    "cells not a list": notebook() | {"cells": "x"},
    "cell not an object": notebook() | {"cells": [1]},
    "bad cell type": notebook(cell("a", "bogus")),
    "cell without metadata": notebook({"id": "a", "cell_type": "raw", "source": ""}),
    "duplicate ids": notebook(cell("a"), cell("a", "markdown")),
    "bad id": notebook(cell("no spaces allowed")),
    "bad output": notebook(cell("a", outputs=[{"output_type": "stream"}])),
    "markdown with outputs": notebook(cell("a", "markdown", outputs=[])),
    "bad kernelspec": notebook(metadata={"kernelspec": {"name": 1}}),
}


@pytest.mark.parametrize("doc", INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys())
def test_save_rejects_invalid_notebooks(store: NotebookStore, root: Path, doc: Any) -> None:
    original = store.create("a.ipynb")
    before = snapshot(root)
    with pytest.raises(InvalidNotebook) as info:
        store.save("a.ipynb", doc, original["version"])
    message = str(info.value)
    assert message and "\n" not in message and "Traceback" not in message
    assert len(message) < 400
    assert snapshot(root) == before  # byte-identical, no temporary file left


def test_failed_write_leaves_original_and_no_temp_file(
    store: NotebookStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = store.create("a.ipynb")
    before = snapshot(root)

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(WriteFailed, match=r"disk on fire.*unchanged") as failed:
        store.add_cell("a.ipynb", created["version"], 1, source="lost")
    assert failed.value.status == 500
    assert snapshot(root) == before

    def no_space(src: Any, dst: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(WriteFailed, match="not enough space") as failed:
        store.add_cell("a.ipynb", created["version"], 1, source="lost")
    assert failed.value.status == 507
    assert snapshot(root) == before


def test_no_temp_files_after_writes(store: NotebookStore, root: Path) -> None:
    model = store.create("a.ipynb")
    for n in range(5):
        model, _ = store.add_cell("a.ipynb", model["version"], n, source=str(n))
    model = store.save("a.ipynb", model["notebook"], model["version"])
    assert sorted(os.listdir(root)) == ["a.ipynb"]


def test_save_keeps_file_mode(store: NotebookStore, root: Path) -> None:
    created = store.create("a.ipynb")
    os.chmod(root / "a.ipynb", 0o640)
    store.add_cell("a.ipynb", created["version"], 0)
    assert (root / "a.ipynb").stat().st_mode & 0o777 == 0o640


# ----------------------------------------------------------------------------- cells


def test_add_cell_positions(store: NotebookStore, three: dict[str, Any]) -> None:
    model, new = store.add_cell("three.ipynb", three["version"], 0, "markdown", "start",
                                {"tags": ["x"]})
    assert new == cell(new["id"], "markdown", "start", metadata={"tags": ["x"]})
    assert ids(model) == [new["id"], "a", "b", "c"]
    assert model == store.get("three.ipynb")
    assert model["version"] != three["version"]

    model, mid = store.add_cell("three.ipynb", model["version"], 2, "raw", "mid")
    assert mid == cell(mid["id"], "raw", "mid")
    model, end = store.add_cell("three.ipynb", model["version"], 99, source="end")
    assert end == cell(end["id"], "code", "end")
    model, first = store.add_cell("three.ipynb", model["version"], -5)
    assert first == cell(first["id"])
    assert ids(model) == [first["id"], new["id"], "a", mid["id"], "b", "c", end["id"]]
    assert len(set(ids(model))) == 7
    assert model == store.get("three.ipynb")


def test_add_cell_rejects_bad_type(store: NotebookStore, root: Path,
                                   three: dict[str, Any]) -> None:
    before = snapshot(root)
    with pytest.raises(InvalidNotebook, match="cell type"):
        store.add_cell("three.ipynb", three["version"], 0, "heading")
    assert snapshot(root) == before


def test_update_cell_fields(store: NotebookStore, three: dict[str, Any]) -> None:
    model = store.update_cell("three.ipynb", three["version"], "c", source="y = 2",
                              outputs=[stream("out\n")], execution_count=7,
                              metadata={"reactive": {"stale": False}})
    assert model["notebook"]["cells"] == [
        three["notebook"]["cells"][0],
        three["notebook"]["cells"][1],
        cell("c", source="y = 2", outputs=[stream("out\n")], execution_count=7,
             metadata={"reactive": {"stale": False}}),
    ]
    assert model == store.get("three.ipynb")
    # Fields left as None are unchanged.
    again = store.update_cell("three.ipynb", model["version"], "c", source="z")
    assert again["notebook"]["cells"][2] == cell(
        "c", source="z", outputs=[stream("out\n")], execution_count=7,
        metadata={"reactive": {"stale": False}})


def test_change_code_to_markdown_and_back(store: NotebookStore, three: dict[str, Any]) -> None:
    model = store.update_cell("three.ipynb", three["version"], "a", cell_type="markdown")
    assert model["notebook"]["cells"][0] == cell("a", "markdown", "x = 1")
    model = store.update_cell("three.ipynb", model["version"], "a", cell_type="code")
    assert model["notebook"]["cells"][0] == cell("a", "code", "x = 1")
    model = store.update_cell("three.ipynb", model["version"], "b", cell_type="raw",
                              source="raw now")
    assert model["notebook"]["cells"][1] == cell("b", "raw", "raw now")
    assert model == store.get("three.ipynb")
    nbformat.validate(nbformat.read(Path(store.root, "three.ipynb"), as_version=4))


def test_change_markdown_with_attachments_to_code(store: NotebookStore) -> None:
    attachments = {"a.png": {"image/png": "iVBORw0KGgo="}}
    saved = store.save("a.ipynb", notebook(cell("m", "markdown", "![](attachment:a.png)",
                                                attachments=attachments)), None)
    assert saved["notebook"]["cells"][0]["attachments"] == attachments
    model = store.update_cell("a.ipynb", saved["version"], "m", cell_type="code")
    assert model["notebook"]["cells"] == [cell("m", "code", "![](attachment:a.png)")]


def test_update_cell_rejects_outputs_on_markdown(store: NotebookStore, root: Path,
                                                 three: dict[str, Any]) -> None:
    before = snapshot(root)
    with pytest.raises(InvalidNotebook):
        store.update_cell("three.ipynb", three["version"], "b", outputs=[])
    with pytest.raises(InvalidNotebook):
        store.update_cell("three.ipynb", three["version"], "a", cell_type="markdown",
                          execution_count=2)
    with pytest.raises(InvalidNotebook):
        store.update_cell("three.ipynb", three["version"], "a", outputs=[{"bad": 1}])
    with pytest.raises(InvalidNotebook):
        store.update_cell("three.ipynb", three["version"], "a", cell_type="bogus")
    assert snapshot(root) == before


def test_delete_cell(store: NotebookStore, three: dict[str, Any]) -> None:
    model = store.delete_cell("three.ipynb", three["version"], "b")
    assert model["notebook"]["cells"] == [three["notebook"]["cells"][0],
                                          three["notebook"]["cells"][2]]
    model = store.delete_cell("three.ipynb", model["version"], "a")
    model = store.delete_cell("three.ipynb", model["version"], "c")
    assert model["notebook"]["cells"] == []
    assert model == store.get("three.ipynb")


@pytest.mark.parametrize(
    ("cell_id", "index", "expected"),
    [
        ("c", 0, ["c", "a", "b"]),
        ("a", 2, ["b", "c", "a"]),
        ("a", 1, ["b", "a", "c"]),
        ("c", 1, ["a", "c", "b"]),
        ("b", 1, ["a", "b", "c"]),
        ("a", 100, ["b", "c", "a"]),
        ("c", -3, ["c", "a", "b"]),
    ],
)
def test_move_cell(store: NotebookStore, three: dict[str, Any], cell_id: str, index: int,
                   expected: list[str]) -> None:
    model = store.move_cell("three.ipynb", three["version"], cell_id, index)
    assert ids(model) == expected
    by_id = {c["id"]: c for c in three["notebook"]["cells"]}
    assert model["notebook"]["cells"] == [by_id[i] for i in expected]
    assert model == store.get("three.ipynb")


@pytest.mark.parametrize(
    "operation",
    [
        lambda s, v: s.update_cell("three.ipynb", v, "nope", source="x"),
        lambda s, v: s.delete_cell("three.ipynb", v, "nope"),
        lambda s, v: s.move_cell("three.ipynb", v, "nope", 0),
    ],
    ids=["update", "delete", "move"],
)
def test_unknown_cell_id(store: NotebookStore, root: Path, three: dict[str, Any],
                         operation: Any) -> None:
    before = snapshot(root)
    with pytest.raises(NotFound, match="nope"):
        operation(store, three["version"])
    assert snapshot(root) == before


def test_cell_operations_with_stale_version_conflict(
    store: NotebookStore, root: Path, three: dict[str, Any]
) -> None:
    version = three["version"]
    first = store.update_cell("three.ipynb", version, "a", source="first")
    before = snapshot(root)
    operations = [
        lambda: store.update_cell("three.ipynb", version, "a", source="second"),
        lambda: store.add_cell("three.ipynb", version, 0),
        lambda: store.delete_cell("three.ipynb", version, "b"),
        lambda: store.move_cell("three.ipynb", version, "c", 0),
        lambda: store.save("three.ipynb", three["notebook"], version),
    ]
    for operation in operations:
        with pytest.raises(VersionConflict) as info:
            operation()
        assert info.value.current == first["version"]
    assert snapshot(root) == before


def test_cell_operations_on_missing_notebook(store: NotebookStore) -> None:
    with pytest.raises(NotFound):
        store.add_cell("missing.ipynb", "0" * 16, 0)
    with pytest.raises(NotFound):
        store.update_cell("missing.ipynb", "0" * 16, "a", source="")


# ----------------------------------------------------------------------------- old files


def test_old_notebook_without_ids_gets_stable_ids(store: NotebookStore, root: Path) -> None:
    old = {
        "nbformat": 4,
        "nbformat_minor": 2,
        "metadata": {"kernelspec": KERNELSPEC, "extra": "kept"},
        "cells": [
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["a = 1\n", "b = 2"]},
            {"cell_type": "markdown", "metadata": {}, "source": "hi"},
        ],
    }
    path = root / "old.ipynb"
    path.write_text(json.dumps(old))
    model = store.get("old.ipynb")
    first, second = ids(model)
    assert model == {
        "path": "old.ipynb",
        "version": version_of(path),
        "notebook": {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": KERNELSPEC, "extra": "kept"},
            "cells": [cell(first, source="a = 1\nb = 2", execution_count=1),
                      cell(second, "markdown", "hi")],
        },
    }
    assert first != second
    assert store.get("old.ipynb") == model  # the same ids on every read

    # The ids can be used right away; the first write stores them.
    updated = store.update_cell("old.ipynb", model["version"], second, source="hello")
    assert ids(updated) == [first, second]
    on_disk = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(on_disk)
    assert on_disk.nbformat_minor >= 5
    assert [c.id for c in on_disk.cells] == [first, second]
    assert on_disk.metadata.extra == "kept"


def test_missing_and_duplicate_ids_on_disk_are_repaired(store: NotebookStore,
                                                        root: Path) -> None:
    doc = notebook(cell("same"), cell("same", "markdown"), cell("x", "raw"))
    del doc["cells"][2]["id"]
    (root / "a.ipynb").write_text(json.dumps(doc))
    model = store.get("a.ipynb")
    assert ids(model)[0] == "same"
    assert len(set(ids(model))) == 3
    assert store.get("a.ipynb") == model


def test_v3_notebook_is_converted(store: NotebookStore, root: Path) -> None:
    v3 = {
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"},
        "worksheets": [{"cells": [
            {"cell_type": "code", "input": "1 + 1", "language": "python", "outputs": [],
             "prompt_number": 2, "metadata": {}},
            {"cell_type": "heading", "level": 2, "source": "Title", "metadata": {}},
        ]}],
    }
    (root / "v3.ipynb").write_text(json.dumps(v3))
    model = store.get("v3.ipynb")
    first, second = ids(model)
    assert model["notebook"]["cells"] == [cell(first, source="1 + 1", execution_count=2),
                                          cell(second, "markdown", "## Title")]
    assert store.get("v3.ipynb") == model


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe{}", b"[]", b'{"nbformat": 4}'])
def test_get_unreadable_file(store: NotebookStore, root: Path, content: bytes) -> None:
    (root / "bad.ipynb").write_bytes(content)
    with pytest.raises(InvalidNotebook) as info:
        store.get("bad.ipynb")
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------- rename/delete


def test_rename(store: NotebookStore, root: Path) -> None:
    created = store.create("a.ipynb")
    (root / "sub").mkdir()
    moved = store.rename("a.ipynb", "sub/b.ipynb")
    assert moved == {**created, "path": "sub/b.ipynb"}
    assert not (root / "a.ipynb").exists()
    assert store.get("sub/b.ipynb") == moved
    with pytest.raises(NotFound):
        store.get("a.ipynb")
    assert store.rename("sub/b.ipynb", "sub/b.ipynb") == moved


def test_rename_errors(store: NotebookStore, root: Path) -> None:
    store.create("a.ipynb")
    store.create("b.ipynb")
    before = snapshot(root)
    with pytest.raises(AlreadyExists):
        store.rename("a.ipynb", "b.ipynb")
    with pytest.raises(NotFound):
        store.rename("missing.ipynb", "c.ipynb")
    with pytest.raises(NotFound):
        store.rename("a.ipynb", "nodir/c.ipynb")
    with pytest.raises(PathError):
        store.rename("a.ipynb", "a.txt")
    with pytest.raises(PathError):
        store.rename("a.ipynb", "../a.ipynb")
    assert snapshot(root) == before


def test_delete(store: NotebookStore, root: Path) -> None:
    store.create("a.ipynb")
    store.create("keep.ipynb")
    assert store.delete("a.ipynb") is None
    with pytest.raises(NotFound):
        store.get("a.ipynb")
    with pytest.raises(NotFound):
        store.delete("a.ipynb")
    assert [e["path"] for e in store.list()] == ["keep.ipynb"]
    (root / "dir.ipynb").mkdir()
    with pytest.raises(NotFound):
        store.delete("dir.ipynb")
    assert (root / "dir.ipynb").is_dir()


# ----------------------------------------------------------------------------- paths


BAD_PATHS = [
    "../x.ipynb",
    "/etc/x.ipynb",
    "a/../../x.ipynb",
    "sub\\..\\x.ipynb",
    ".hidden/x.ipynb",
    "sub/.x.ipynb",
    ".ipynb_checkpoints/x-checkpoint.ipynb",
    "x.txt",
    "x.ipynb/",
    "",
    ".ipynb",
    "./x.ipynb",
    "a//x.ipynb",
    "x\x00.ipynb",
]


def operations(s: NotebookStore, path: str, version: str) -> list[Callable[[], object]]:
    """Every store operation applied to ``path`` (as source or target)."""
    return [
        lambda: s.get(path),
        lambda: s.create(path),
        lambda: s.save(path, notebook(), None),
        lambda: s.save(path, notebook(), version),
        lambda: s.delete(path),
        lambda: s.rename(path, "fine.ipynb"),
        lambda: s.rename("fine.ipynb", path),
        lambda: s.add_cell(path, version, 0),
        lambda: s.update_cell(path, version, "a", source="pwned"),
        lambda: s.delete_cell(path, version, "a"),
        lambda: s.move_cell(path, version, "a", 0),
    ]


@pytest.fixture
def world(tmp_path: Path, store: NotebookStore, root: Path) -> dict[str, Any]:
    """Notebooks inside and outside the root that a path attack could reach."""
    outside = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("secret", id="a")])
    (tmp_path / "x.ipynb").write_text(nbformat.writes(outside))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "x.ipynb").write_text(nbformat.writes(outside))
    store.create("fine.ipynb")
    for hidden in [".hidden/x.ipynb", "sub/.x.ipynb", ".ipynb_checkpoints/x-checkpoint.ipynb"]:
        (root / hidden).parent.mkdir(exist_ok=True)
        (root / hidden).write_text(nbformat.writes(outside))
    (root / "x.txt").write_text(nbformat.writes(outside))
    version = version_of(tmp_path / "x.ipynb")
    return {"version": version}


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_paths_are_rejected(store: NotebookStore, tmp_path: Path, world: dict[str, Any],
                                path: str) -> None:
    before = snapshot(tmp_path)
    for operation in operations(store, path, world["version"]):
        with pytest.raises(PathError) as info:
            operation()
        assert info.value.status == 403
    assert snapshot(tmp_path) == before


def test_symlink_to_outside_is_rejected(store: NotebookStore, root: Path, tmp_path: Path,
                                        world: dict[str, Any]) -> None:
    (root / "link.ipynb").symlink_to(tmp_path / "x.ipynb")
    (root / "linkdir").symlink_to(tmp_path / "etc", target_is_directory=True)
    (root / "dangling.ipynb").symlink_to(tmp_path / "nothing.ipynb")
    (root / "loop.ipynb").symlink_to(root / "loop.ipynb")
    before = snapshot(tmp_path)
    for path in ["link.ipynb", "linkdir/x.ipynb", "linkdir/new.ipynb", "dangling.ipynb",
                 "loop.ipynb"]:
        for operation in operations(store, path, world["version"]):
            with pytest.raises(PathError):
                operation()
    assert snapshot(tmp_path) == before
    assert [e["path"] for e in store.list()] == ["fine.ipynb"]


def test_symlink_to_hidden_or_non_notebook_inside_root_is_rejected(
    store: NotebookStore, root: Path, world: dict[str, Any]
) -> None:
    (root / "to-hidden.ipynb").symlink_to(root / ".hidden" / "x.ipynb")
    (root / "to-text.ipynb").symlink_to(root / "x.txt")
    for path in ["to-hidden.ipynb", "to-text.ipynb"]:
        with pytest.raises(PathError):
            store.get(path)
        with pytest.raises(PathError):
            store.save(path, notebook(), None)


def test_symlink_inside_root_is_followed(store: NotebookStore, root: Path) -> None:
    (root / "real").mkdir()
    created = store.create("real/target.ipynb")
    (root / "alias.ipynb").symlink_to(Path("real") / "target.ipynb")
    model = store.get("alias.ipynb")
    assert model == {**created, "path": "alias.ipynb"}
    saved = store.update_cell("alias.ipynb", model["version"], ids(model)[0], source="via link")
    assert (root / "alias.ipynb").is_symlink()  # written through, not replaced
    assert store.get("real/target.ipynb") == {**saved, "path": "real/target.ipynb"}
    assert sorted(os.listdir(root / "real")) == ["target.ipynb"]
    store.delete("alias.ipynb")  # removes the link only
    assert not os.path.lexists(root / "alias.ipynb")
    assert (root / "real" / "target.ipynb").is_file()


def test_unicode_and_spaces_in_paths(store: NotebookStore, root: Path) -> None:
    (root / "dossier été").mkdir()
    model = store.create("dossier été/mon carnet ✓.ipynb")
    assert model["path"] == "dossier été/mon carnet ✓.ipynb"
    assert [e["path"] for e in store.list()] == ["dossier été/mon carnet ✓.ipynb"]


def test_a_renamed_relative_link_still_leads_to_its_notebook(store: NotebookStore,
                                                             root: Path) -> None:
    """A symlinked notebook is renamed as a link; moved to another directory, its
    relative target must still name the same file (it dangled: the rename answered
    404 and the notebook was gone from the list)."""
    (root / "real").mkdir()
    created = store.create("real/target.ipynb")
    (root / "alias.ipynb").symlink_to(Path("real") / "target.ipynb")
    moved = store.rename("alias.ipynb", "real/alias.ipynb")
    assert moved == {**created, "path": "real/alias.ipynb"}
    assert (root / "real" / "alias.ipynb").is_symlink()
    assert not os.path.lexists(root / "alias.ipynb")
    assert [n["path"] for n in store.list()] == ["real/alias.ipynb", "real/target.ipynb"]
    # Back to the root, and an absolute link moves as it is.
    assert store.rename("real/alias.ipynb", "alias.ipynb")["path"] == "alias.ipynb"
    assert store.get("alias.ipynb") == {**created, "path": "alias.ipynb"}
    (root / "abs.ipynb").symlink_to(root / "real" / "target.ipynb")
    assert store.rename("abs.ipynb", "real/abs.ipynb")["version"] == created["version"]
    assert os.readlink(root / "real" / "abs.ipynb") == str(root / "real" / "target.ipynb")


def test_a_rename_delete_or_read_the_file_system_refuses_says_why(
    store: NotebookStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory the server may not write to, a file it may not read (as a user
    other than root meets them): a clear error with its status, nothing changed."""
    store.create("a.ipynb")
    os.symlink("a.ipynb", root / "link.ipynb")
    (root / "sub").mkdir()
    before = snapshot(root)
    real_unlink = os.unlink

    def denied(*_args: Any, **_kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "rename", denied)
    with pytest.raises(WriteFailed, match=r"'a.ipynb' was not renamed to 'b.ipynb' "
                                          r"\(Permission denied\)") as failed:
        store.rename("a.ipynb", "b.ipynb")
    assert failed.value.status == 403
    monkeypatch.setattr(os, "unlink", denied)
    with pytest.raises(WriteFailed, match="was not deleted") as failed:
        store.delete("a.ipynb")
    assert failed.value.status == 403
    # A relative link made anew in the other directory: the old one cannot go,
    # so the new one does not stay.
    monkeypatch.setattr(os, "unlink", lambda p, *a, **k: denied() if str(p) == str(
        root / "link.ipynb") else real_unlink(p, *a, **k))
    with pytest.raises(WriteFailed, match="was not renamed"):
        store.rename("link.ipynb", "sub/link.ipynb")
    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(WriteFailed, match=r"'a.ipynb' could not be read") as failed:
        store.get("a.ipynb")
    assert failed.value.status == 403
    monkeypatch.undo()
    assert snapshot(root) == before
