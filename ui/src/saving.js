// Saving and loading the notebook, autosave, conflicts with other tabs and programs.
import { joinSrc, makeCell, markEdited, mountCells, notebookOrder, outputsHidden, renderOutputs, setState, updateCellChrome } from "./cells.js";
import { selectCell } from "./edits.js";
import { replaceGoneKernel } from "./lifecycle.js";
import { $, S, api, nbUrl, pref, setBanner, toast } from "./store.js";
import { saveWidgetState } from "./widgets.js";

// ---- save / load ------------------------------------------------------------------------------------
function cleanOutput(o) {
  const out = { ...o };
  if (out.output_type === "stream") out.text = joinSrc(out.text);
  return out;
}

/** The notebook as the page has it, as an .ipynb file the browser downloads. */
export function download() {
  const blob = new Blob([JSON.stringify(toNotebook(), null, 1) + "\n"], { type: "application/x-ipynb+json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = S.path.split("/").pop() || "notebook.ipynb";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
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
  armAutosave();
  const node = $("save-state");
  if (text) { node.textContent = text; return; }
  if (S.saving) node.textContent = "Saving…";
  else if (S.gone) node.textContent = "Not saved (deleted on disk)";
  else if (S.conflict) node.textContent = "Not saved (conflict)";
  else if (S.dirty) node.textContent = "Unsaved changes";
  else node.textContent = S.lastSaved ? `Saved ${S.lastSaved.toLocaleTimeString()}` : "Saved";
  node.dataset.state = S.conflict || S.gone ? "conflict" : S.dirty ? "dirty" : "saved";
}

// ---- autosave ---------------------------------------------------------------------------------------
// A run's outputs are saved as soon as it ends (scheduleAutosave).  Edits are saved
// autosaveMs (a preference: store.js; 0 turns it off) after the first change not saved
// yet, so no edit waits longer than JupyterLab's autosave interval (120 s), and typing
// on and on still saves every two minutes.  Never while a conflict or a deleted file
// waits for the user's choice; a save in flight is followed by another (save()).
const autosaveMs = pref("autosaveMs", 120000);
let editTimer = null;

function armAutosave() {
  if (!S.dirty) {
    clearTimeout(editTimer);
    editTimer = null;
    return;
  }
  if (editTimer !== null || S.conflict || S.gone || !(autosaveMs > 0)) return;
  editTimer = setTimeout(() => {
    editTimer = null;
    if (S.dirty && !S.conflict && !S.gone) save();
  }, autosaveMs);
}

let autosaveTimer = null;
export function scheduleAutosave() {
  clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(() => { if (S.dirty && !S.conflict && !S.gone) save(); }, 300);
}

const CHANGED_ON_DISK = "Could not save: the file changed on disk since you opened it (another tab or program). Your edits are still here.";

/** The file changed under this page's unsaved edits (``version``: the file's now).
 * Nothing is saved until the user chooses: their file, or this page over it. */
function showConflict(version, message) {
  S.conflict = version;
  setBanner("error", message, [
    ["Reload from disk (discard mine)", () => reloadNotebook(true), false],
    ["Overwrite with mine", () => save({ force: S.conflict }), true],
  ], "file");
}

/** The file is gone (deleted, or renamed by another program): the page keeps the
 * cells, and saving writes the file anew, as JupyterLab's save does, once asked to.
 * (A rename in this server is announced: ``followRename``.) */
export function showGone() {
  S.gone = true;
  setBanner("error", "This notebook was deleted on disk (by another tab or program). Your cells are still here.", [
    ["Save to recreate it", () => recreate(), true],
  ], "file");
  updateSaveState();
}

/** The notebook was renamed to ``path`` by another tab or the list page: this tab's
 * saves go there; a save that found the old name gone meanwhile was no deletion. */
export function followRename(path) {
  S.path = path;
  if (!S.gone) return;
  S.gone = false;
  if (S.conflict) {  // a conflict not settled yet: its choice again
    showConflict(S.conflict, CHANGED_ON_DISK);
  } else if (S.bannerTopic === "file") {
    setBanner(null);
  }
  updateSaveState();
  if (S.dirty && !S.conflict) save();
}

async function recreate() {
  await save({ recreate: true });
  // Deleting a notebook shuts its kernel down: the file back, it gets a new one.
  if (!S.gone && S.kernelState === "dead") replaceGoneKernel();
}

/** Save the page to the file. ``force``: the file's version to save over (a conflict
 * the user settled); ``recreate``: write a file that was deleted. */
export async function save(opts = {}) {
  if (S.saving) {
    // Asked for again: once the save in flight is done. A save the user settled
    // (overwrite, recreate) keeps what it was asked for.
    S.saveAgain = true;
    if (opts.force || opts.recreate) S.saveAgainOpts = opts;
    return;
  }
  S.saving = true;
  updateSaveState();
  const path = S.path;
  const version = opts.recreate ? null : opts.force || S.version;
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
    S.savedIds = snapshot.cells.map((c) => c.id).join(" ");
    S.dirty = editedDuringSave() !== before;
    S.conflict = null;
    S.gone = false;
    S.lastSaved = new Date();
    if (S.bannerTopic === "file") setBanner(null);
  } catch (error) {
    if (error.status === 409) {
      S.gone = false;
      showConflict(error.body && error.body.version, CHANGED_ON_DISK);
    } else if (error.status === 404 && !opts.recreate && S.path !== path) {
      S.saveAgain = true;  // renamed elsewhere meanwhile: saved under the new name
      if (opts.force) S.saveAgainOpts = opts;  // (an overwrite the user chose)
    } else if (error.status === 404 && !opts.recreate) {
      showGone();
    } else {
      toast(`Save failed: ${error.message}`, "error");
    }
  } finally {
    S.saving = false;
    updateSaveState();
    if (S.saveAgain) {
      const again = S.saveAgainOpts;
      S.saveAgain = false;
      S.saveAgainOpts = null;
      if (again) save(again);
      else if (S.dirty && !S.conflict && !S.gone) save();
    }
  }
}

/** Show ``model`` (a GET of the notebook).  ``keepLive``: the cells already on the
 * page stay (their editors, states and, during a cascade, outputs) and take the file's
 * source, type and metadata.  A cell with edits not saved yet keeps them: if the file
 * changed that cell too, the page is in conflict (the user chooses, nothing is saved
 * over the other edit); otherwise the page stays dirty. */
export function loadModel(model, keepLive) {
  const nb = model.notebook;
  S.meta = nb.metadata || {};
  S.nbformatMinor = nb.nbformat_minor || 5;
  const old = S.byId;
  const next = [];
  const clashes = [];
  for (const raw of nb.cells) {
    const existing = keepLive && old.get(raw.id);
    if (existing) {
      const source = joinSrc(raw.source);
      const edited = existing.source !== existing.savedSource;
      if (existing.source !== source) {
        if (!edited) {
          existing.editor.setText(source);  // focused or not: nothing typed in it is lost
          existing.source = source;
        } else if (existing.savedSource !== source) {
          clashes.push(existing);
        }
      }
      existing.savedSource = source;
      const type = raw.cell_type === "markdown" ? "markdown" : raw.cell_type === "raw" ? "raw" : "code";
      if (existing.type !== type) { existing.type = type; existing.editor.setType(type); }
      const hidden = outputsHidden(existing);
      existing.metadata = raw.metadata || {};
      if (outputsHidden(existing) !== hidden) renderOutputs(existing);
      if (!S.cascade && type === "code") {
        existing.outputs = (raw.outputs || []).map((o) => ({ ...o }));
        existing.execution_count = raw.execution_count ?? existing.execution_count;
        renderOutputs(existing);
      }
      updateCellChrome(existing);
      next.push(existing);
    } else {
      next.push(withKernelState(makeCell(raw)));
    }
  }
  for (const [id, cell] of old) if (!next.includes(cell)) { cell.editor.destroy(); void id; }
  if (!next.length) next.push(makeCell({ cell_type: "code", source: "" }));
  S.cells = next;
  mountCells();
  S.savedIds = nb.cells.map((c) => c.id).join(" ");
  S.dirty = S.cells.some((c) => c.source !== c.savedSource);
  if (clashes.length) {
    // S.version stays the one this page saw: a save is refused until the user chooses.
    const which = clashes.map((c) => `#${S.cells.indexOf(c) + 1}`).join(", ");
    showConflict(model.version, `Another tab or program changed cell ${which}, which you are editing here. `
      + "Your edits are kept, not saved.");
  } else {
    S.version = model.version;
  }
  updateSaveState();
}

/** A cell new to the page that the kernel already knows (another tab inserted and ran
 * it, or the page's cells were loaded anew): the state the kernel gave it, which the
 * comm said while the page did not have the cell. */
function withKernelState(cell) {
  const record = cell.type === "code" ? S.ks.cells.get(cell.id) : null;
  if (!record) return cell;
  cell.runs = record.runs;
  if (record.status !== "idle") {
    setState(cell, record.status, { duration: record.durationMs, error: record.error,
      skippedBecause: record.skippedBecause });
  }
  markEdited(cell);
  return cell;
}

/** Whether the page's cells are the ones of the file it last loaded or saved, in that
 * order (its unsaved edits, if any, are inside cells): then another tab's save can be
 * taken cell by cell (loadModel), with no cell of this page's lost. */
export function sameCellsAsSaved() {
  return S.cells.map((c) => c.id).join(" ") === S.savedIds && !S.merged.size;
}

export async function reloadNotebook(discard) {
  try {
    const model = await api(nbUrl());
    if (discard) {
      for (const cell of S.cells) cell.editor.destroy();
      S.byId = new Map();
      S.cells = [];
    }
    S.conflict = null;
    S.gone = false;
    if (S.bannerTopic === "file") setBanner(null);
    loadModel(model, !discard);
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
