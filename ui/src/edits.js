// Selection, command and edit modes, and the cell operations (insert, delete and undo,
// copy / cut / paste, move, type, hide outputs).
import { drawGraphPanel, indexOf, makeCell, markEdited, mountCells, notebookOrder, previousCodeId, renderOutputs, renderState, sendOrder, setState, updateCellChrome } from "./cells.js";
import { related } from "./graph.js";
import { newId } from "./kernel.js";
import { applyGraphReply } from "./messages.js";
import { runCell } from "./run.js";
import { updateSaveState } from "./saving.js";
import { S, toast } from "./store.js";

// ---- selection and modes ----------------------------------------------------------------------
export function selectCell(cell, focus = true) {
  if (!cell) return;
  if (S.active !== cell) {
    if (S.active) S.active.el.classList.remove("rk-active");
    S.active = cell;
    cell.el.classList.add("rk-active");
    highlightRelations();
    drawGraphPanel();
  }
  if (focus) cell.el.focus({ preventScroll: false });
}

export function commandMode(cell) {
  if (cell.type === "markdown" && cell.editingMd) editMarkdown(cell, false);
  selectCell(cell, false);
  cell.el.focus();
}

export function editMode(cell) {
  selectCell(cell, false);
  if (cell.type === "markdown") editMarkdown(cell, true);
  else cell.editor.focus();
}

export function editMarkdown(cell, on) {
  cell.editingMd = on;
  updateCellChrome(cell);
  if (on) cell.editor.focus();
}

export function highlightRelations() {
  const graph = S.graph;
  const sel = S.active && S.active.id;
  const rel = graph && sel && graph.cells[sel] ? related(graph.cells, sel) : null;
  for (const cell of S.cells) {
    cell.el.classList.toggle("rk-upstream", !!rel && rel.up.has(cell.id));
    cell.el.classList.toggle("rk-downstream", !!rel && rel.down.has(cell.id));
  }
}

// ---- editing operations -----------------------------------------------------------------------
export function markDirty() {
  S.dirty = true;
  S.editCounter = (S.editCounter || 0) + 1;
  updateSaveState();
}

export function insertCell(index, type = "code", edit = true, source = "") {
  const cell = makeCell({ cell_type: type, source, id: newId().slice(0, 12) });
  S.cells.splice(index, 0, cell);
  mountCells();
  markDirty();
  if (edit) editMode(cell);
  else selectCell(cell);
  return cell;
}

/** Shift+M: the cell below joins this one (a blank line between), as JupyterLab merges
 * cells; Z brings the cell below back. */
export function mergeBelow(cell) {
  const next = S.cells[indexOf(cell) + 1];
  if (!next) return;
  const text = [cell.source, next.source].filter((t) => t.length).join("\n\n");
  const before = cell.source;
  cell.editor.setText(text);
  cell.source = text;
  // The kernel keeps the lower cell's definitions until the merged code runs: until
  // then the cells below go on reading them, as they would from the merged cell.
  const keep = cell.type === "code" && next.type === "code" && next.runs > 0;
  if (keep) S.merged.set(next.id, [cell.id, previousCodeId(next)]);
  for (const [id, [into, after]] of S.merged) {
    if (into === next.id) S.merged.set(id, [keep ? cell.id : into, after]);
  }
  deleteCell(next, "Merged", keep);
  // Z undoes the merge: the cell above gets its text back too.
  const undo = S.undoDeletes[S.undoDeletes.length - 1];
  if (undo) undo.mergedInto = { id: cell.id, source: before, text };
  selectCell(cell);
  markDirty();
  markEdited(cell);
}

export function deleteCell(cell, verb = "Deleted", merged = false) {
  const i = indexOf(cell);
  if (i < 0) return;
  if (cell.type === "code" && !merged) S.deleted.set(cell.id, previousCodeId(cell));
  // Cells merged into this one go with it.
  for (const [id, [into, after]] of S.merged) {
    if (into === cell.id && !merged) { S.merged.delete(id); S.deleted.set(id, after); }
  }
  S.undoDeletes.push({ index: i, cell: snapshotCell(cell), st: { ...cell.st }, runs: cell.runs });
  if (S.undoDeletes.length > 50) S.undoDeletes.shift();
  S.cells.splice(i, 1);
  cell.editor.destroy();
  if (!S.cells.length) S.cells.push(makeCell({ cell_type: "code", source: "" }));
  mountCells();
  markDirty();
  selectCell(S.cells[Math.min(i, S.cells.length - 1)]);
  toast(`${verb} cell ${i + 1} · Z to undo`, "info", 2500);
}

/** The cell as nbformat JSON (outputs included). */
function snapshotCell(cell) {
  const raw = { id: cell.id, cell_type: cell.type, metadata: structuredClone(cell.metadata), source: cell.source };
  if (cell.type === "code") {
    raw.outputs = structuredClone(cell.outputs);
    raw.execution_count = cell.execution_count;
  }
  if (cell.attachments) raw.attachments = cell.attachments;
  return raw;
}

// Z: the last deleted (or cut) cell comes back where it was.  If the deletion has not
// reached the kernel yet (offline: it travels with the next execute_request), the kernel
// still holds the cell's definitions: it comes back as it was.  If it has, the kernel
// removed them and re-ran their readers: the cell is registered again at its place and,
// if it had run, runs again, so its readers go back to what they showed before the
// deletion (a cell that never ran comes back not run).
export function undoDelete() {
  const last = S.undoDeletes.pop();
  if (!last) { toast("Nothing to undo", "info", 2000); return; }
  const raw = last.cell;
  const id = S.byId.has(raw.id) ? newId().slice(0, 12) : raw.id;
  // As it was only if the kernel has not moved on: the deletion not sent yet, the cell
  // not re-run since (by another tab's cascade), not deleted while it ran.
  const known = S.graph && S.graph.cells[raw.id];
  const pending = S.deleted.has(raw.id) || S.merged.has(raw.id);
  const stillKnown = raw.cell_type === "code" && id === raw.id && pending
    && !!known && known.runs === last.runs && !["queued", "running"].includes(last.st.status);
  if (raw.cell_type === "code" && id === raw.id) { S.deleted.delete(raw.id); S.merged.delete(raw.id); }
  const into = last.mergedInto && S.byId.get(last.mergedInto.id);
  if (into && into.source === last.mergedInto.text) {
    // Undoing a merge (the merged text not edited since): the cell above as it was.
    into.editor.setText(last.mergedInto.source);
    into.source = last.mergedInto.source;
    updateCellChrome(into);
    markEdited(into);
  }
  const cell = makeCell({ ...raw, id, ...(stillKnown ? {} : { outputs: [], execution_count: null }) });
  if (stillKnown) Object.assign(cell.st, last.st);
  S.cells.splice(Math.min(last.index, S.cells.length), 0, cell);
  mountCells();
  if (stillKnown) renderState(cell);
  else if (cell.type === "code" && S.conn && S.conn.open) {
    // Ran in this kernel (a count saved in the file is not a run here).
    const hadRun = last.runs > 0;
    const order = notebookOrder();
    S.sentOrder = order.join(" ");
    S.conn.request("reactive_graph_request", { order, register: [{ cellId: cell.id, code: cell.source }] }, {}, 30000)
      .then((reply) => {
        if (reply) applyGraphReply(reply.content);
        if (hadRun && S.byId.get(cell.id) === cell) runCell(cell);
      });
  }
  markDirty();
  selectCell(cell);
}

// C / X / V: one cell at a time, through localStorage so that it can be pasted into
// another notebook (or tab) of this server.  A pasted cell is a new cell: new id, no
// outputs (they came from another cell's run).
const CLIPBOARD_KEY = "rk-cell-clipboard";
export function copyCell(cell, quiet = false) {
  const raw = snapshotCell(cell);
  delete raw.outputs;
  delete raw.execution_count;
  delete raw.id;
  S.clipboard = raw;
  try {
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(raw));
  } catch {  // full, or private mode: memory only, and no older stored cell to paste
    try { localStorage.removeItem(CLIPBOARD_KEY); } catch { /* unavailable */ }
  }
  if (!quiet) toast(`Copied cell ${indexOf(cell) + 1}`, "info", 2000);
}

function clipboardCell() {
  try {
    const stored = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "null");
    if (stored && typeof stored.source === "string") return stored;
  } catch { /* ignore a malformed entry */ }
  return S.clipboard;
}

export function cutCell(cell) {
  copyCell(cell, true);
  deleteCell(cell, "Cut");
}

export function pasteCell(index) {
  const raw = clipboardCell();
  if (!raw) { toast("Nothing to paste: copy a cell with C first", "info", 2500); return; }
  const cell = makeCell({ ...raw, id: newId().slice(0, 12), outputs: [], execution_count: null });
  S.cells.splice(index, 0, cell);
  mountCells();
  markDirty();
  selectCell(cell);
}

/** Clear a code cell's outputs (its execution count stays), as JupyterLab's "Clear
 * Outputs": the file loses them at the next save. */
export function clearOutputs(cell) {
  if (cell.type !== "code" || !cell.outputs.length) return false;
  cell.outputs = [];
  cell.pendingClear = false;
  S.cleared.add(cell.id);
  renderOutputs(cell);
  return true;
}

/** "Clear outputs" of every cell. */
export function clearAllOutputs() {
  let cleared = false;
  for (const cell of S.cells) cleared = clearOutputs(cell) || cleared;
  if (cleared) markDirty();
}

export function toggleOutputs(cell) {
  if (cell.type !== "code") return;
  const jupyter = { ...(cell.metadata.jupyter || {}) };
  if (jupyter.outputs_hidden) delete jupyter.outputs_hidden;
  else jupyter.outputs_hidden = true;
  const metadata = { ...cell.metadata, jupyter };
  if (!Object.keys(jupyter).length) delete metadata.jupyter;
  cell.metadata = metadata;
  renderOutputs(cell);
  markDirty();
}

export function moveCell(cell, delta) {
  const i = indexOf(cell);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= S.cells.length) return;
  S.cells.splice(i, 1);
  S.cells.splice(j, 0, cell);
  mountCells();
  markDirty();
  selectCell(cell);
}

export function setType(cell, type) {
  if (cell.type === type) return;
  if (cell.type === "code") S.deleted.set(cell.id, previousCodeId(cell));
  else S.deleted.delete(cell.id);
  sendOrder();
  cell.type = type;
  cell.editor.setType(type);
  cell.outputs = [];
  cell.execution_count = null;
  cell.editingMd = false;
  setState(cell, "idle");
  updateCellChrome(cell);
  renderOutputs(cell);
  markDirty();
}
