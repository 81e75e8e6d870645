// Running cells: requests, Shift+Enter's editor hand-over, Run all, mode and Run stale.
import { indexOf, notebookOrder, renderOutputs, sendOrderNow, setState, updateCellChrome } from "./cells.js";
import { editMarkdown, editMode, insertCell, markDirty, selectCell } from "./edits.js";
import { applyGraphReply } from "./messages.js";
import { scheduleAutosave } from "./saving.js";
import { $, S, cellsEl, pref, toast } from "./store.js";

// ---- running ---------------------------------------------------------------------------------
function ensureConnected() {
  if (S.kernelState === "dead") {
    // Shut down (the notebook deleted, or by another client) or not restartable: a
    // request would wait for ever.  The banner has the way out.
    toast(S.gone ? "Nothing ran: this notebook was deleted on disk, and its kernel with it. "
      + "Save to recreate it: it gets a new kernel."
      : "Nothing ran: this notebook has no running kernel. Start one from the banner above.", "error");
    return false;
  }
  if (S.conn && S.conn.open) return true;
  toast("Not connected to the kernel — reconnecting…", "error");
  if (S.conn) S.conn.reconnectNow();
  return false;
}

/** Run a cell; its execute_request's msg_id, or null if none was sent. */
export function runCell(cell, extra = {}) {
  if (cell.type === "markdown") { editMarkdown(cell, false); return null; }
  if (cell.type !== "code") return null;
  if (!cell.source.trim() && !(S.graph && S.graph.cells && S.graph.cells[cell.id])) {
    // An empty cell the kernel does not hold: nothing to run, as in JupyterLab (one it
    // holds runs, so the names its old code defined go).
    cell.outputs = [];
    cell.execution_count = null;
    renderOutputs(cell);
    updateCellChrome(cell);
    return null;
  }
  if (!ensureConnected()) return null;
  // A cell the kernel does not know (new here, or deleted in another tab): the order
  // goes first, so the kernel puts it in its place, not after every cell it knows.
  if (S.graph && S.graph.cells && !S.graph.cells[cell.id]) {
    S.sentOrder = null;
    sendOrderNow();
  }
  const metadata = { cellId: cell.id, ...extra };
  // Cells merged into this one go from the kernel as its merged code runs.
  const merged = [...S.merged].filter(([, [into]]) => into === cell.id).map(([id]) => id);
  const remove = [...S.deleted.keys(), ...merged];
  if (remove.length) metadata.deletedCells = remove;
  const msgId = S.conn.execute(cell.source, metadata);
  if (!msgId) return null;
  S.deleted.clear();
  for (const id of merged) S.merged.delete(id);
  // New code is saved at once, not when its run ends: a page reloaded meanwhile (or
  // opened in another tab) shows the code whose outputs the kernel sends.
  if (cell.source !== cell.savedSource) scheduleAutosave();
  S.msgToCell.set(msgId, cell.id);
  S.awaitingReply.set(msgId, cell.id);
  cell.outputs = [];
  cell.pendingClear = false;
  renderOutputs(cell);
  setState(cell, "queued", { error: null, skippedBecause: null, died: false });
  markDirty();
  return msgId;
}

/** advance: false (stay), true (next cell, a new one after the last) or "insert"
 * (a new cell below, edited). */
export function runAndMaybeAdvance(cell, advance, fromEditor) {
  const msgId = runCell(cell);
  if (!advance) return;
  const i = indexOf(cell);
  if (advance === "insert" || i === S.cells.length - 1) {
    insertCell(i + 1, "code", true);
  } else {
    const next = S.cells[i + 1];
    if (fromEditor && next.type === "code" && msgId) editModeSoon(next, msgId);
    else if (fromEditor && next.type === "code") editMode(next);
    else selectCell(next);
  }
  if (S.active !== cell) follow(S.active);
}

// ---- the next cell stays in sight -----------------------------------------------------------------
// Shift+Enter moves on while the cell it ran still runs: that cell's output, arriving
// above the next one, pushed it down, often below the window.  As in JupyterLab, the
// page keeps the next cell's input in sight while what is above it grows, for as long as
// the user leaves it there: once they scroll it out of the window, or pick another
// cell, it stays where they put it.
const SIGHT_MARGIN = 8;
let followed = null;
let followedScroll = 0;  // the window's scroll when the page last placed it

function inputBox(cell) { return cell.el.querySelector(".rk-input").getBoundingClientRect(); }

// The sticky bars cover the top of the window.
function topInset() {
  const bar = document.querySelector(".rk-toolbar");
  return bar ? bar.getBoundingClientRect().bottom : 0;
}

/** Scroll the cell's input up into the window if its end is below it, never so far
 * that its first line goes under the bars (a tall cell shows its start). */
function reveal(cell) {
  const box = inputBox(cell);
  const by = Math.min(box.bottom + SIGHT_MARGIN - innerHeight, box.top - topInset() - SIGHT_MARGIN);
  if (by > 0) window.scrollBy(0, by);
  followedScroll = window.scrollY;
}

function follow(cell) {
  followed = cell;
  reveal(cell);
}

new ResizeObserver(() => {
  const cell = followed;
  if (!cell) return;
  if (S.active !== cell || S.byId.get(cell.id) !== cell) { followed = null; return; }
  if (window.scrollY !== followedScroll) {
    // Scrolled since: by the user (or the browser) — followed only if still in sight.
    const box = inputBox(cell);
    if (box.bottom <= topInset() || box.top >= innerHeight) { followed = null; return; }
  }
  reveal(cell);
}).observe(cellsEl);

// Shift+Enter moves the focus into the next cell at once, but that cell's CodeMirror
// view is made once the run is over (or at the first key or click in it, or after
// editorWaitMs, a preference: store.js): making it is script, a forced layout and two more frames on a long
// notebook, which on a small machine competed with the cascade the keystroke started.
const editorWaitMs = pref("editorWaitMs", 400);
let waitingEditor = null;
let waitingFor = null; // the execute_request whose end makes the editor
let waitingTimer = null;
let waitingIdle = null;

function editModeSoon(cell, msgId) {
  settleEditor();
  selectCell(cell, false);
  cell.editor.focusSoon();
  waitingEditor = cell;
  waitingFor = msgId;
  waitingTimer = setTimeout(settleEditor, editorWaitMs);
}

// requestIdleCallback is missing from some browsers (Safari): a zero timeout then.
const whenIdle = window.requestIdleCallback
  ? (fn) => requestIdleCallback(fn, { timeout: 100 }) : (fn) => setTimeout(fn, 0);
const cancelIdle = window.cancelIdleCallback ? (handle) => cancelIdleCallback(handle) : clearTimeout;

function settleEditor() {
  clearTimeout(waitingTimer);
  if (waitingIdle !== null) cancelIdle(waitingIdle);
  waitingIdle = null;
  const cell = waitingEditor;
  waitingEditor = null;
  waitingFor = null;
  if (cell && S.byId.get(cell.id) === cell) cell.editor.settle();
}

export function settleEditorWhenIdle(msgId) {
  if (!waitingEditor || msgId !== waitingFor || waitingIdle !== null) return;
  waitingIdle = whenIdle(() => { waitingIdle = null; settleEditor(); });
}

function runMany(ids) {
  // Every cell gets its own request, in dependency order, so the kernel must not
  // cascade as well (it could run a cell before that cell's request arrives).
  for (const id of ids) {
    const cell = S.byId.get(id);
    if (cell && cell.type === "code") runCell(cell, { reactiveCascade: false });
  }
}

export async function runAll() {
  if (!ensureConnected()) return;
  // Cells the kernel does not know yet (inserted and typed, not run) go into its graph
  // first, so they take their place in the dependency order, not the end.
  const known = (S.graph && S.graph.cells) || {};
  const register = S.cells.filter((c) => c.type === "code" && c.source.trim() && !known[c.id])
    .map((c) => ({ cellId: c.id, code: c.source }));
  if (register.length) {
    const order = notebookOrder();
    S.sentOrder = order.join(" ");
    const reply = await S.conn.request("reactive_graph_request", { order, register }, {}, 30000);
    if (reply) applyGraphReply(reply.content);
    if (!ensureConnected()) return;
  }
  const order = (S.graph && S.graph.order) || [];
  const codeIds = S.cells.filter((c) => c.type === "code").map((c) => c.id);
  const inGraph = order.filter((id) => codeIds.includes(id));
  const rest = codeIds.filter((id) => !inGraph.includes(id));
  runMany([...inGraph, ...rest]);
}

/** A reactive_graph_request (mode, run_stale): its reply's error, if any, as a toast.
 * The states it changes come on the comm.  ``saveAfter``: the outputs of the cells it
 * runs are saved once it is over (its idle status), as a run's are. */
async function graphRequest(content, what, saveAfter = false) {
  if (!ensureConnected()) return null;
  const msgId = S.conn.send("shell", "reactive_graph_request", content);
  if (msgId && saveAfter) S.saveOnIdle.add(msgId);
  const reply = await S.conn.awaitReply(msgId, 120000);
  if (reply && reply.content.status !== "ok") toast(`${what} failed: ${reply.content.evalue}`, "error");
  return reply;
}

export function setMode(mode) {
  S.mode = mode;  // the comm's mode message confirms it
  updateModeSwitch();
  graphRequest({ mode }, "Switching mode");
}

export function runStale() {
  graphRequest({ run_stale: true }, "Running stale cells", true);
}

export function updateModeSwitch() {
  const lazy = S.mode === "lazy";
  $("mode-switch").setAttribute("aria-checked", String(lazy));
  $("mode-label").textContent = lazy ? "Lazy" : "Auto";
  updateRunStale();
}

/** "Run stale" shows in lazy mode, and in auto mode while a cell is stale (one that
 * never ran in this kernel and whose inputs changed: a cascade leaves it for you). */
export function updateRunStale() {
  $("run-stale").hidden = S.mode !== "lazy" && !S.cells.some((c) => c.st.status === "stale");
}
