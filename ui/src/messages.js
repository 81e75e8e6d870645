// The kernel's messages: outputs routed to their cells, cascades, the cell states of the
// 'reactive' comm (through cellstate.js), catching up after a disconnection, inspection.
import { encodePath } from "./api.js";
import { deferDraws, drawGraphPanel, drawSoon, joinSrc, makeCell, markEdited, mountCells, queueRender, setMark, setState, updateCellChrome } from "./cells.js";
import { COMM_TARGET, applyKernelMessage, cellsThatRan } from "./cellstate.js";
import { highlightRelations, markDirty } from "./edits.js";
import { newId } from "./kernel.js";
import { kernelBack, onKernelRestarted, reconcile, setKernelState } from "./lifecycle.js";
import { el, renderOutput } from "./render.js";
import { settleEditorWhenIdle, updateModeSwitch, updateRunStale } from "./run.js";
import { askInput, closeInput } from "./stdin.js";
import { followRename, loadModel, reloadNotebook, sameCellsAsSaved, save, scheduleAutosave, updateSaveState } from "./saving.js";
import { $, S, api, nbUrl, setBanner, toast } from "./store.js";
import { onWidgetMessage } from "./widgets.js";

// ---- kernel messages --------------------------------------------------------------------------------
function msgType(msg) { return (msg.header && msg.header.msg_type) || msg.msg_type; }

// A cascade, from its request's busy to its idle: which cell started it (this page's
// request, else the first cell with an output), which cells had output (touched), which
// ran (the comm says so).  States are the kernel's; this is about outputs and marks.
function beginCascade(parent, own) {
  if (S.cascade) endCascade();
  S.cascade = { parent, own, trigger: own ? S.msgToCell.get(parent) || null : null,
    current: null, touched: new Set(), ran: new Set() };
  deferDraws();
  for (const cell of S.cells) setMark(cell, null);
  if (S.cascade.trigger) activity(S.cascade.trigger, parent);
}

function endCascade() {
  const c = S.cascade;
  if (!c) return;
  if (c.current) {
    const cell = S.byId.get(c.current);
    if (cell) applyDeferredClear(cell);
  }
  if (!c.own) {
    // Another client's run of a cell that printed nothing: its old outputs are gone.
    for (const id of c.ran) {
      const cell = S.byId.get(id);
      if (cell && !c.touched.has(id) && cell.outputs.length) { cell.outputs = []; queueRender(cell); }
    }
  }
  S.cascade = null;
  drawSoon();
}

/** A cell showed signs of life (clear_output or an output) during a cascade. */
function activity(cellId, parent) {
  const c = S.cascade;
  const cell = S.byId.get(cellId);
  if (!c || !cell || c.touched.has(cellId)) return;
  if (!c.trigger && parent === c.parent) c.trigger = cellId;
  if (c.current && c.current !== cellId) {
    const prev = S.byId.get(c.current);
    if (prev) applyDeferredClear(prev);
  }
  c.touched.add(cellId);
  c.current = cellId;
  if (!c.own && cellId === c.trigger) { cell.outputs = []; queueRender(cell); }
  setMark(cell, cellId === c.trigger ? "trigger" : "reran");
  if (S.stateComm !== "live" && cell.st.status !== "running") {
    setState(cell, "running", { error: null, skippedBecause: null });  // no comm: the page's guess
  }
}

// A clear_output(wait=False) takes effect with the cell's next output, when the cell is done
// (the cascade moves on or ends) or after CLEAR_DELAY_MS, whichever comes first. Emptied
// and refilled in different frames, an output area would move every cell below it twice,
// and that relayout and repaint of the whole notebook was most of a cascade's UI time.
const CLEAR_DELAY_MS = 100;

// One timer for all deferred clears (a cascade defers one per cell): cells in the order
// of their deadlines.
const deferredClears = new Map();
let clearTimer = null;

function deferClear(cell) {
  cell.pendingClear = true;
  deferredClears.delete(cell);
  deferredClears.set(cell, performance.now() + CLEAR_DELAY_MS);
  if (!clearTimer) clearTimer = setTimeout(expireClears, CLEAR_DELAY_MS);
}

function expireClears() {
  clearTimer = null;
  const now = performance.now();
  for (const [cell, deadline] of deferredClears) {
    if (deadline > now) {
      clearTimer = setTimeout(expireClears, deadline - now);
      return;
    }
    applyDeferredClear(cell);
  }
}

/** Apply a clear deferred by deferClear (not one asked with wait=True). */
function applyDeferredClear(cell) {
  if (!deferredClears.delete(cell) || !cell.pendingClear) return;
  cell.outputs = [];
  cell.pendingClear = false;
  queueRender(cell);
}

export function addOutput(cell, output) {
  // A deferred clear is done with its cell's next output: a clear_output(wait=True)
  // after it waits for the output after that, not for the deferred clear's timer.
  deferredClears.delete(cell);
  if (cell.pendingClear) { cell.outputs = []; cell.pendingClear = false; }
  appendOutput(cell.outputs, output);
  queueRender(cell);
  if (ownOutputs()) outputsChanged();
}

/** Whether outputs arriving now are this page's to save: its own run's, or a widget
 * cascade it started (a widget it moved); not another tab's. */
function ownOutputs() {
  if (S.cascade) return S.cascade.own;
  return !S.widgetRun || S.widgetRun.own;
}

/** Append an output as the notebook keeps it: consecutive text of one stream is one. */
function appendOutput(outputs, output) {
  const last = outputs[outputs.length - 1];
  if (output.output_type === "stream" && last && last.output_type === "stream" && last.name === output.name) {
    last.text = joinSrc(last.text) + output.text;
  } else {
    outputs.push(output);
  }
}

/** The nbformat output of an iopub output message (stream, display_data, execute_result,
 * error), or null.  A display's id rides along, not saved. */
function outputOf(type, content) {
  if (type === "stream") return { output_type: "stream", name: content.name, text: content.text || "" };
  if (type === "error") {
    return { output_type: "error", ename: content.ename, evalue: content.evalue, traceback: content.traceback || [] };
  }
  if (type !== "display_data" && type !== "execute_result") return null;
  const out = { output_type: type, data: content.data || {}, metadata: content.metadata || {} };
  if (type === "execute_result") out.execution_count = content.execution_count;
  const displayId = content.transient && content.transient.display_id;
  if (displayId) Object.defineProperty(out, "displayId", { value: displayId, enumerable: false, writable: true });
  return out;
}

// Outputs are part of the file. One that arrives while a save is in flight (or after
// it) must leave the page dirty, or the autosave after the run finds nothing to do and
// the output never reaches the disk. Outputs of other tabs' runs are theirs to save.
function outputsChanged() {
  S.editCounter = (S.editCounter || 0) + 1;
  if (!S.dirty) { S.dirty = true; updateSaveState(); }
}

export function onMessage(msg) {
  if (S.held) { S.held.push(msg); return; }  // until the replay is applied (below)
  const type = msgType(msg);
  if (msg.channel === "server") { onServerMessage(type, msg.content || {}); return; }
  // The last words of a kernel being replaced (a cell it interrupts on its way out, its
  // replies) must not overwrite what the page decided when it heard of the restart.
  if (S.goneSession && msg.header && msg.header.session === S.goneSession) return;
  if (onWidgetMessage(msg, type)) return;
  const content = msg.content || {};
  const parent = msg.parent_header || {};
  const parentId = parent.msg_id;
  const cellId = (msg.metadata && msg.metadata.cellId) || S.msgToCell.get(parentId);
  const cell = cellId ? S.byId.get(cellId) : null;
  if (msg.channel === "iopub") {
    switch (type) {
      case "status": {
        setKernelState(content.execution_state, content.reason);
        if (parent.msg_type === "comm_msg") {
          // A widget's change (its cascade's outputs come in between): this page's
          // if this page's widget manager sent it.
          if (content.execution_state === "busy") {
            S.widgetRun = { parent: parentId, own: !!S.conn && parent.session === S.conn.session };
          } else if (S.widgetRun && S.widgetRun.parent === parentId) S.widgetRun = null;
        }
        if (parent.msg_type === "comm_msg" && content.execution_state === "idle" && S.dirty
            && S.conn && parent.session === S.conn.session) {
          scheduleAutosave();  // a widget this page moved re-ran cells: keep their outputs
        }
        if (content.execution_state === "idle" && S.saveOnIdle.delete(parentId) && S.dirty) {
          scheduleAutosave();  // this page's "Run stale" is over
        }
        if (parent.msg_type !== "execute_request") return;
        if (content.execution_state === "busy") {
          beginCascade(parentId, S.msgToCell.has(parentId));
        } else if (content.execution_state === "idle") {
          const own = S.msgToCell.has(parentId);
          if (S.cascade && S.cascade.parent === parentId) endCascade();
          if (own) {
            settleEditorWhenIdle(parentId);
            S.msgToCell.delete(parentId);
            if (![...S.msgToCell.keys()].length) scheduleAutosave();
          }
        }
        return;
      }
      case "execute_input":
        if (cell) {
          cell.execution_count = content.execution_count;
          updateCellChrome(cell);
          activity(cell.id, parentId);
          if (S.msgToCell.get(parentId) === cell.id && cell.outputs.length) {
            // This page's own request starts: what the cell shows came from a run
            // before it (a cascade that reached the cell before its request arrived).
            cell.outputs = [];
            cell.pendingClear = false;
            queueRender(cell);
          }
        }
        return;
      case "clear_output":
        if (!cell) return;
        activity(cell.id, parentId);
        if (content.wait) cell.pendingClear = true;
        else deferClear(cell);
        if (!content.wait && ownOutputs()) outputsChanged();
        return;
      case "stream":
      case "display_data":
      case "execute_result":
      case "error": {
        if (!cell) return;
        activity(cell.id, parentId);
        if (type === "execute_result" && content.execution_count != null) {
          // (null: an upstream cell this kernel never counted keeps the number it had)
          cell.execution_count = content.execution_count;
          updateCellChrome(cell);
        }
        addOutput(cell, outputOf(type, content));
        return;
      }
      case "update_display_data": {
        const displayId = content.transient && content.transient.display_id;
        if (!displayId) return;
        for (const c of S.cells) {
          let changed = false;
          for (const o of c.outputs) {
            if (o.displayId === displayId) { o.data = content.data || {}; o.metadata = content.metadata || {}; changed = true; }
          }
          if (changed) queueRender(c);
          // Only during our own run: a background thread's updates would make every tab dirty.
          if (changed && S.cascade && S.cascade.own) outputsChanged();
        }
        return;
      }
      case "comm_msg":
        if (content.comm_id === S.commId) onKernelState(content.data);
        return;
      case "comm_close":
        if (content.comm_id === S.commId) { S.commId = null; S.stateComm = "none"; setSynced(true); }
        return;
      default:
        return;
    }
  }
  if (msg.channel === "stdin") {
    if (type === "input_request" && cell) {
      askInput(cell, content, msg.header, (text) => {
        addOutput(cell, { output_type: "stream", name: "stdout", text });
      });
    }
    return;
  }
  if (msg.channel === "shell") {
    if (type === "execute_reply") {
      const asked = S.awaitingReply.get(parentId);
      S.awaitingReply.delete(parentId);
      onExecuteReply(msg, cell || (asked ? S.byId.get(asked) : null));
    }
    else if (type === "kernel_info_reply") noteKernelSession(msg);
  }
}

// Every kernel process has a session id of its own (its replies' header.session): a
// new one means the kernel was restarted, e.g. while this page was disconnected, when
// no "restarting" status could reach it.
function noteKernelSession(msg) {
  const session = msg.header && msg.header.session;
  if (!session) return;
  const known = S.kernelSession;
  S.kernelSession = session;
  if (known && known !== session && !S.restartHandling && !S.userRestart) {
    S.resync = false;  // nothing of the old kernel's graph to compare with
    onKernelRestarted("offline");
  }
}

function onExecuteReply(msg, cell) {
  if (cell) closeInput(cell);  // a request it asked for input for is over (interrupted)
  const content = msg.content || {};
  const reactive = (msg.metadata && msg.metadata.reactive) || null;
  if (content.status === "aborted") {
    // Not run: a request before it failed (stop_on_error, as in Run all); the kernel
    // dropped it unseen, so the comm says nothing of it.  As JupyterLab: no count.
    if (cell && cell.type === "code" && ["queued", "running"].includes(cell.st.status)) {
      cell.execution_count = null;
      updateCellChrome(cell);
      setState(cell, "idle", { error: null, skippedBecause: null, duration: null });
    }
    return;
  }
  for (const item of content.payload || []) {
    // `len?`, `obj??`, `%pdoc`: IPython's pager text comes with the reply; a notebook
    // shows it under the cell (its ANSI colours as in a stream).
    const text = item && item.source === "page" && item.data && item.data["text/plain"];
    if (cell && typeof text === "string") addOutput(cell, { output_type: "stream", name: "stdout", text });
    // `%load`, set_next_input(): the text replaces the cell's (replace) or goes in a new
    // cell below, not run, as in JupyterLab.
    if (cell && item && item.source === "set_next_input" && typeof item.text === "string") {
      setNextInput(cell, item.text, !!item.replace);
    }
  }
  if (cell && content.execution_count != null && cell.type === "code") {
    cell.execution_count = content.execution_count;
    updateCellChrome(cell);
  }
  const ran = reactive && (reactive.ran || []).includes(cell && cell.id);
  if (cell && content.status === "error" && !ran) {
    // Refused before running (a cycle): nothing ran, so the comm has nothing to say.
    if (!cell.outputs.some((o) => o.output_type === "error")) {
      addOutput(cell, { output_type: "error", ename: content.ename, evalue: content.evalue,
        traceback: content.traceback || [] });
    }
    setState(cell, "error", { error: `${content.ename}: ${content.evalue}` });
  } else if (cell && S.stateComm !== "live") {
    // A kernel without the state comm: this request's own outcome is all there is.
    const status = content.status === "ok" ? "ok" : content.ename === "KeyboardInterrupt" ? "interrupted" : "error";
    setState(cell, status, { error: status === "ok" ? null : `${content.ename}: ${content.evalue}`,
      duration: cell.st.startedAt ? performance.now() - cell.st.startedAt : null });
  }
  if (reactive && reactive.interrupted) toast("Interrupted: the rest of the cascade was skipped.", "info");
}

function setNextInput(cell, text, replace) {
  const i = S.cells.indexOf(cell);
  if (i < 0) return;
  if (!replace) {
    // (The selection and the focus stay where the user is.)
    S.cells.splice(i + 1, 0, makeCell({ cell_type: "code", source: text, id: newId().slice(0, 12) }));
    mountCells();
    markDirty();
    return;
  }
  cell.editor.setText(text);
  cell.source = text;
  markDirty();
  updateCellChrome(cell);
  markEdited(cell);
}

// ---- the kernel's cell states ----------------------------------------------------------------------
/** Open this page's "reactive" comm: the kernel answers with a snapshot of every cell's
 * state and the graph, then sends each change (cellstate.js). */
export function openStateComm() {
  if (!S.conn || !S.conn.open) return;
  closeStateComm();  // the kernel would go on sending to it
  S.commId = newId();
  S.stateComm = "opening";
  S.conn.send("shell", "comm_open", { comm_id: S.commId, target_name: COMM_TARGET, data: {} });
}

export function closeStateComm() {
  if (S.commId && S.conn && S.conn.open) S.conn.send("shell", "comm_close", { comm_id: S.commId, data: {} });
  S.commId = null;
}

/** A reactive_graph_reply (registration, an undone deletion) carries the whole graph:
 * the same as the comm's graph message. */
export function applyGraphReply(content) {
  if (content && content.cells) onKernelState({ ...content, type: "graph" });
}

function onKernelState(data) {
  const isSnapshot = !!data && data.type === "snapshot";
  if (isSnapshot) S.stateComm = "live";
  const resync = S.resync && isSnapshot;
  const before = S.ks;
  const { state, changed, graph, mode } = applyKernelMessage(before, data);
  S.ks = state;
  if (mode && state.mode) { S.mode = state.mode; updateModeSwitch(); }
  if (resync) {
    S.resync = false;
    if (state.cells.size === 0 && S.cells.some((c) => c.type === "code")) {
      // A kernel that knows none of the cells (restarted while this page was away).
      S.kernelSession = null;
      onKernelRestarted("offline");
      return;
    }
  }
  const missed = [];
  // A page's first snapshot says which cells ever ran, not what the last run re-ran:
  // no marks from it.
  const firstLook = !S.sawSnapshot && (isSnapshot || (data && data.type === "graph"));
  if (isSnapshot) S.sawSnapshot = true;
  for (const id of firstLook ? [] : cellsThatRan(changed)) {
    // Only the cell a request ran gets a new execution count; its cascade's re-runs
    // keep theirs.
    const { before: was, after } = changed.get(id);
    const requested = after.executionCount != null && (!was || was.executionCount !== after.executionCount);
    const c = S.cascade;
    if (c) {
      c.ran.add(id);
      if (!c.trigger && requested) c.trigger = id;
    }
    const cell = S.byId.get(id);
    // The kernel says which runs were re-runs; older kernels did not.
    const own = after.rerun === null ? (c ? id === c.trigger : requested) : !after.rerun;
    if (cell) setMark(cell, own ? "trigger" : "reran");
  }
  for (const [id, { after }] of changed) {
    const cell = S.byId.get(id);
    if (cell && cell.type === "code") markEdited(cell);  // the kernel's code for it may be new
    if (!cell || cell.type !== "code" || !after) continue;
    if (resync) {
      // Runs of the cell in this kernel that this page did not see (its outputs went
      // to the tabs that were connected), or one it saw only the start of.
      const cutShort = S.interrupted && S.interrupted.has(id) && after.status !== "running";
      if (typeof cell.runs === "number" && (after.runs > cell.runs || cutShort)) {
        missed.push({ id, count: after.executionCount });
      }
    }
    cell.runs = after.runs;
    if (after.executionCount != null && after.executionCount !== cell.execution_count) {
      cell.execution_count = after.executionCount;
      updateCellChrome(cell);
    }
    if (after.status === "idle" && (cell.st.died || cell.st.status === "idle")) continue;
    setState(cell, after.status, { duration: after.durationMs, error: after.error,
      skippedBecause: after.skippedBecause });
  }
  if (resync) {
    // Cells this page marked queued when it sent their requests, on the socket that
    // broke: whatever became of a request (run: its runs changed above; aborted behind
    // a failure, or lost with the socket: its reply went nowhere), the kernel's state
    // is the cell's now, not "queued" for ever.  (Not a request sent on this socket,
    // after the snapshot was taken: the page's requests pending since the reconnection.)
    const sentSince = new Set(S.msgToCell.values());
    for (const cell of S.cells) {
      if (cell.type !== "code" || cell.st.status !== "queued" || changed.has(cell.id)
          || sentSince.has(cell.id)) continue;
      const record = state.cells.get(cell.id);
      if (record && ["queued", "running"].includes(record.status)) continue;
      cell.execution_count = record ? record.executionCount : null;
      updateCellChrome(cell);
      setState(cell, record ? record.status : "idle", { duration: record ? record.durationMs : null,
        error: record ? record.error : null, skippedBecause: record ? record.skippedBecause : null });
    }
  }
  // Cells the kernel still knows but did not mention keep their run counts.
  if (resync) S.interrupted = null;
  if (graph) {
    S.graph = state.graph;
    highlightRelations();
    drawGraphPanel();
  }
  const caughtUp = missed.length ? catchUp(missed) : null;
  if (isSnapshot && S.reconcile) reconcile(new Set(state.cells.keys()));
  if (isSnapshot && S.onSnapshot) { const done = S.onSnapshot; S.onSnapshot = null; done(); }
  updateRunStale();
  if (isSnapshot) {
    const commId = S.commId;
    Promise.resolve(caughtUp).then(() => { if (S.commId === commId) setSynced(true); });
  }
}

/** Whether the page shows what the kernel knows: false from a (re)connection until the
 * comm's snapshot is applied and what the page missed meanwhile is caught up.  Shown on
 * the connection pill (data-sync: "current" | "catching-up" | "offline"). */
export function setSynced(synced) {
  const node = $("conn-state");
  if (node.dataset.state !== "connected") { node.dataset.sync = "offline"; return; }
  node.dataset.sync = synced ? "current" : "catching-up";
  node.title = synced ? "WebSocket connected to the kernel"
    : "Connected; catching up with the kernel's cell states";
}

// Back after a disconnection, the kernel's graph says which cells ran meanwhile.  Their
// outputs went to the tabs that were connected, and a tab saves its runs' outputs: if
// the file changed meanwhile, it is loaded (as the notice this page missed would have
// loaded it).  If it did not, the new outputs are nowhere, and each cell that ran says
// so instead of showing its old output as if it were current.
async function catchUp(missed) {
  const version = S.version;
  const runs = new Map(missed.map(({ id }) => [id, S.byId.get(id) && S.byId.get(id).runs]));
  let model = null;
  try { model = await api(nbUrl()); } catch { return; /* offline again */ }
  if (S.version !== version) return;  // reloaded or saved meanwhile: that is newer
  if (model.version !== version && !S.dirty) { loadModel(model, true); return; }
  if (model.version !== version) {
    onServerMessage("notebook_changed", { path: S.path, version: model.version, origin: null });
  }
  // The server's replay on this connection brought what ran since the last save; the
  // rest is in the file.  Cells whose outputs it could not keep are marked there.
  if (S.replayed) return;
  markMissed(missed.filter(({ id }) => {
    const cell = S.byId.get(id);
    return cell && cell.runs === runs.get(id) && !["queued", "running"].includes(cell.st.status);
  }));
}

function markMissed(missed) {
  let lost = 0;
  for (const { id, count } of missed) {
    const cell = S.byId.get(id);
    if (!cell || cell.type !== "code") continue;
    if (count != null) cell.execution_count = count;
    cell.outputs = [{ output_type: "stream", name: "stderr",
      text: "This cell ran while this page was disconnected, and its output did not reach "
        + "the page. Run it again to see it.\n" }];
    updateCellChrome(cell);
    queueRender(cell);
    lost += 1;
  }
  if (lost) toast(`${lost} cell${lost === 1 ? "" : "s"} ran while this page was disconnected; their outputs were not received.`, "info", 6000);
}

// ---- outputs the page missed -------------------------------------------------------------------
// The server sends every page, first thing on each connection, the outputs of the cells
// that ran since the notebook was last saved (outputs_replay): a page loaded or
// reconnected during a cascade, or before anyone saved, shows what the kernel did, not
// the file's older outputs.  Cells the server could not keep them for are "lost".
const REPLAY_FILE_WAIT_MS = 10000;

async function applyReplay(content) {
  S.replayed = true;
  if (content.version && content.version !== S.version && !S.dirty) {
    // Saved since this page loaded the file: that file first, then what came after it.
    S.held = [];
    try {
      // Bounded: the kernel's messages are held meanwhile.
      const model = await Promise.race([api(nbUrl()), new Promise((_, fail) =>
        setTimeout(() => fail(new Error("timed out")), REPLAY_FILE_WAIT_MS))]);
      if (!S.dirty) loadModel(model, true);
    } catch { /* offline again, or too slow: the page keeps what it has */ }
    const held = S.held;
    S.held = null;
    replayOutputs(content);
    for (const msg of held) onMessage(msg);
    return;
  }
  replayOutputs(content);
}

function replayOutputs(content) {
  for (const [id, messages] of Object.entries(content.cells || {})) {
    const cell = S.byId.get(id);
    if (!cell || cell.type !== "code" || !Array.isArray(messages)) continue;
    let outputs = cell.outputs.slice();
    let waiting = false;
    for (const { msg_type: type, content: body = {} } of messages) {
      if (type === "execute_input" || (type === "clear_output" && !body.wait)) {
        outputs = [];
        waiting = false;
        if (type === "execute_input" && body.execution_count != null) cell.execution_count = body.execution_count;
      } else if (type === "clear_output") {
        waiting = true;
      } else if (type === "update_display_data") {
        const displayId = body.transient && body.transient.display_id;
        for (const o of outputs) if (displayId && o.displayId === displayId) { o.data = body.data || {}; o.metadata = body.metadata || {}; }
      } else {
        const out = outputOf(type, body);
        if (!out) continue;
        if (waiting) { outputs = []; waiting = false; }
        if (type === "execute_result" && body.execution_count != null) cell.execution_count = body.execution_count;
        appendOutput(outputs, out);
      }
    }
    cell.outputs = outputs;
    cell.pendingClear = waiting;
    updateCellChrome(cell);
    queueRender(cell);
  }
  markMissed((content.lost || []).map((id) => ({ id, count: null })));
}

function onServerMessage(type, content) {
  if (type === "notebook_changed") {
    if (content.path !== S.path || content.origin === S.clientId || content.version === S.version) return;
    if (S.dirty && !sameCellsAsSaved()) {
      setBanner("warn", "This notebook was changed in another tab. Your unsaved edits here are kept.", [
        ["Reload theirs (discard mine)", () => reloadNotebook(true), false],
        ["Keep mine and save", () => save({ force: content.version }), true],
      ], "file");
    } else {
      reloadNotebook(false);
    }
  } else if (type === "notebook_renamed") {
    if (content.path !== S.path || typeof content.new_path !== "string") return;
    // Renamed elsewhere (the list page, another tab): this tab follows, so its saves
    // go to the file under its new name instead of failing on the old one.
    followRename(content.new_path);
    showPath();
    const url = `/notebooks/${encodePath(S.path)}`;
    history.replaceState(null, "", url + location.hash);
    if (content.origin !== S.clientId) toast(`This notebook was renamed to ${S.path}.`, "info");
  } else if (type === "kernel_ready") {
    // A restart is over: the server registered the saved cells in the new kernel.
    if (!S.awaitingKernel) return;
    S.kernelVersion = content.registered ? content.version : null;
    kernelBack(S.awaitingKernel);
  } else if (type === "outputs_replay") {
    applyReplay(content);
  } else if (type === "server_error") {
    toast(`Server: ${content.message}`, "error");
  }
}

export function showPath() {
  $("nb-title").textContent = S.path;
  document.title = `${S.path.split("/").pop()} — Reactive notebook`;
}

// ---- inspection (Shift+Tab) -----------------------------------------------------------------------
export async function inspect(cell, code, pos) {
  if (!S.conn || !S.conn.open) return;
  const reply = await S.conn.request("inspect_request",
    { code, cursor_pos: pos, detail_level: 0 }, {}, 10000);
  if (cell.inspectEl) cell.inspectEl.remove();
  const content = reply && reply.content;
  const text = content && content.found && content.data ? content.data["text/plain"] : null;
  const body = renderOutput({ output_type: "stream", name: "stdout",
                              text: text || "Nothing found to inspect here." });
  const close = el("button", { class: "rk-inspect-close", type: "button",
                               "aria-label": "Close the help" }, "×");
  cell.inspectEl = el("div", { class: "rk-inspect", role: "note" }, close, body);
  close.addEventListener("click", () => { cell.inspectEl.remove(); cell.editor.focus(); });
  cell.editorEl.after(cell.inspectEl);
}
