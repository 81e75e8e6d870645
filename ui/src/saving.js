// Saving and loading the notebook, autosave, conflicts with other tabs and programs.
import { joinSrc, makeCell, mountCells, notebookOrder, outputsHidden, renderOutputs, updateCellChrome } from "./cells.js";
import { selectCell } from "./edits.js";
import { $, S, api, nbUrl, setBanner, toast } from "./store.js";
import { saveWidgetState } from "./widgets.js";

// ---- save / load ------------------------------------------------------------------------------------
function cleanOutput(o) {
  const out = { ...o };
  if (out.output_type === "stream") out.text = joinSrc(out.text);
  return out;
}

function toNotebook() {
  return {
    nbformat: 4,
    nbformat_minor: Math.max(5, S.nbformatMinor || 5),
    metadata: S.meta,
    cells: S.cells.map((c) => {
      if (c.type === "code") {
        return { id: c.id, cell_type: "code", metadata: c.metadata, source: c.source,
          outputs: c.outputs.map(cleanOutput), execution_count: c.execution_count ?? null };
      }
      const cell = { id: c.id, cell_type: c.type, metadata: c.metadata, source: c.source };
      if (c.attachments && c.type === "markdown") cell.attachments = c.attachments;
      return cell;
    }),
  };
}

export function updateSaveState(text) {
  const node = $("save-state");
  if (text) { node.textContent = text; return; }
  if (S.saving) node.textContent = "Saving…";
  else if (S.conflict) node.textContent = "Not saved (conflict)";
  else if (S.dirty) node.textContent = "Unsaved changes";
  else node.textContent = S.lastSaved ? `Saved ${S.lastSaved.toLocaleTimeString()}` : "Saved";
  node.dataset.state = S.conflict ? "conflict" : S.dirty ? "dirty" : "saved";
}

let autosaveTimer = null;
export function scheduleAutosave() {
  clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(() => { if (S.dirty && !S.conflict) save(); }, 300);
}

export async function save(opts = {}) {
  if (S.saving) { S.saveAgain = true; return; }
  S.saving = true;
  updateSaveState();
  const version = opts.force || S.version;
  await saveWidgetState();
  const snapshot = toNotebook();
  const editedDuringSave = () => S.editCounter;
  const before = editedDuringSave();
  // Cleared outputs the server must not replay to pages that connect later.
  const cleared = [...S.cleared].filter((id) => S.byId.has(id) && !S.byId.get(id).outputs.length);
  try {
    const model = await api(nbUrl(), { method: "PUT", body: JSON.stringify({ notebook: snapshot, version, cleared }) });
    for (const id of cleared) S.cleared.delete(id);
    S.version = model.version;
    for (const saved of snapshot.cells) {
      const cell = S.byId.get(saved.id);
      if (cell) cell.savedSource = saved.source;
    }
    S.dirty = editedDuringSave() !== before;
    S.conflict = null;
    S.lastSaved = new Date();
    if (S.bannerTopic === "file") setBanner(null);
  } catch (error) {
    if (error.status === 409) {
      S.conflict = error.body && error.body.version;
      setBanner("error", "Could not save: the file changed on disk since you opened it (another tab or program). Your edits are still here.", [
        ["Reload from disk (discard mine)", () => reloadNotebook(true), false],
        ["Overwrite with mine", () => save({ force: S.conflict }), true],
      ], "file");
    } else {
      toast(`Save failed: ${error.message}`, "error");
    }
  } finally {
    S.saving = false;
    updateSaveState();
    if (S.saveAgain) { S.saveAgain = false; if (S.dirty) save(); }
  }
}

export function loadModel(model, keepLive) {
  S.version = model.version;
  const nb = model.notebook;
  S.meta = nb.metadata || {};
  S.nbformatMinor = nb.nbformat_minor || 5;
  const old = S.byId;
  const next = [];
  for (const raw of nb.cells) {
    const existing = keepLive && old.get(raw.id);
    if (existing) {
      const source = joinSrc(raw.source);
      existing.savedSource = source;
      const type = raw.cell_type === "markdown" ? "markdown" : raw.cell_type === "raw" ? "raw" : "code";
      if (existing.type !== type) { existing.type = type; existing.editor.setType(type); }
      const hidden = outputsHidden(existing);
      existing.metadata = raw.metadata || {};
      if (outputsHidden(existing) !== hidden) renderOutputs(existing);
      if (existing.source !== source && !existing.editor.hasFocus()) {
        existing.editor.setText(source);
        existing.source = source;
      }
      if (!S.cascade && type === "code") {
        existing.outputs = (raw.outputs || []).map((o) => ({ ...o }));
        existing.execution_count = raw.execution_count ?? existing.execution_count;
        renderOutputs(existing);
      }
      updateCellChrome(existing);
      next.push(existing);
    } else {
      next.push(makeCell(raw));
    }
  }
  for (const [id, cell] of old) if (!next.includes(cell)) { cell.editor.destroy(); void id; }
  if (!next.length) next.push(makeCell({ cell_type: "code", source: "" }));
  S.cells = next;
  mountCells();
  S.dirty = false;
  updateSaveState();
}

export async function reloadNotebook(discard) {
  try {
    const model = await api(nbUrl());
    if (discard) {
      for (const cell of S.cells) cell.editor.destroy();
      S.byId = new Map();
      S.cells = [];
    }
    loadModel(model, !discard);
    S.conflict = null;
    if (S.bannerTopic === "file") setBanner(null);
    if (S.conn && S.conn.open) {
      const cells = S.cells.filter((c) => c.type === "code").map((c) => ({ cellId: c.id, code: c.source }));
      S.sentOrder = notebookOrder().join(" ");
      S.conn.send("shell", "reactive_graph_request", { order: notebookOrder(), register: cells });
    }
    if (!S.active || !S.byId.has(S.active.id)) selectCell(S.cells[0], false);
  } catch (error) {
    toast(`Reload failed: ${error.message}`, "error");
  }
}
