// Connection and kernel lifecycle: connection state, kernel state, restarts (asked here,
// elsewhere, or a crash), a kernel that is gone, interrupt.
import { token } from "./api.js";
import { notebookOrder, putAttr, putText, setMark, setState } from "./cells.js";
import { emptyKernelState } from "./cellstate.js";
import { KernelConnection } from "./kernel.js";
import { addOutput, applyGraphReply, onMessage, openStateComm, setSynced } from "./messages.js";
import { runAll, setMode, updateRunStale } from "./run.js";
import { showGone } from "./saving.js";
import { closeAllInputs } from "./stdin.js";
import { $, S, api, nbUrl, setBanner, toast } from "./store.js";
import { forgetComms, widgetsConnected } from "./widgets.js";

// ---- kernel + connection state --------------------------------------------------------------------
/** ``reason``: the server's, on the statuses it sends itself (restarting, dead):
 * "died", "requested" (a restart asked for, here or by another client), "shutdown". */
export function setKernelState(state, reason) {
  S.kernelState = state;
  const node = $("kernel-state");
  putAttr(node, "data-state", state);
  putText(node, { idle: "Idle", busy: "Busy", starting: "Starting", restarting: "Restarting…",
    dead: "Dead", unknown: "—" }[state] || state);
  // The server also says "restarting" when this page asked for the restart: no alarm then.
  if (state === "restarting" && !S.userRestart) {
    if (reason === "requested") {
      toast("The kernel was restarted by another tab or client; variables are gone.", "info", 6000);
    } else {
      toast("The kernel died and is restarting; variables are gone.", "error", 8000);
    }
    onKernelRestarted(reason === "requested" ? "restarted" : "died");
  }
  if (state === "dead" && reason === "shutdown") {
    // Deleting a notebook shuts its kernel down: then the file is what the user lost.
    api(nbUrl()).then(() => false, (error) => error.status === 404).then((deleted) => {
      if (S.kernelState !== "dead") return;
      if (deleted) showGone();
      else setBanner("error", "The kernel was shut down.", [["Start a new kernel", replaceGoneKernel, true]]);
    });
  } else if (state === "dead") {
    setBanner("error", "The kernel is dead and could not be restarted.",
      [["Restart kernel", () => restartKernel(false), true]]);
  }
}

function onConnState(state, detail) {
  const node = $("conn-state");
  node.dataset.state = state;
  if (state !== "connected") setSynced(false);
  if (state === "disconnected") checkKernelGone();
  if (state === "connected") {
    S.replayed = false;  // until this connection's outputs_replay (messages.js)
    // A reconnection: the comm's snapshot tells what ran meanwhile.  Replies
    // to this page's requests went to the old socket: none is pending any more, and a
    // cell that was running then has shown only part of its output.
    if (S.wasConnected && !S.newKernel) {
      S.resync = true;
      S.interrupted = new Set(S.cells.filter((c) => c.st.status === "running").map((c) => c.id));
      S.msgToCell.clear();
      S.awaitingReply.clear();
      S.cascade = null;
      S.widgetRun = null;
    }
    S.wasConnected = true;
  }
  if (state === "connected" && S.newKernel) {
    S.newKernel = false;
    S.reconcile = true;  // the server registered the saved cells: add what it could not
  }
  if (state === "connected" && S.awaitingKernel) {
    // Back during a restart: its kernel_ready may have gone to the old socket.
    S.kernelVersion = null;
    kernelBack(S.awaitingKernel);
  } else if (state === "connected") {
    openStateComm();  // a new comm on every connection
  }
  if (state === "connected") widgetsConnected();
  if (state === "connected") {
    node.textContent = "Connected";
    setSynced(false);
  } else if (state === "connecting") {
    node.textContent = "Connecting…";
  } else {
    node.textContent = `Offline · retry in ${Math.ceil(detail.retryIn / 1000)} s`;
    node.title = "Click to reconnect now";
  }
}

// ---- kernel controls ----------------------------------------------------------------------------
export async function interruptKernel() {
  if (!S.kernelId) return;
  try {
    await api(`/api/kernels/${S.kernelId}/interrupt`, { method: "POST", body: "{}" });
    toast("Interrupt sent", "info", 2500);
  } catch (error) {
    toast(`Interrupt failed: ${error.message}`, "error");
  }
}

/** After a restart: no cell has a state or a mark, no request is pending. */
function resetCellStates() {
  S.msgToCell.clear();
  S.awaitingReply.clear();
  S.saveOnIdle.clear();
  S.cascade = null;
  S.widgetRun = null;
  S.ks = emptyKernelState();  // a new kernel: nothing it said yet
  S.commId = null;
  S.deleted.clear();  // a new kernel never had the deleted cells
  S.merged.clear();
  for (const cell of S.cells) {
    cell.runs = 0;
    setMark(cell, null);
    setState(cell, "idle", { duration: null, error: null, skippedBecause: null, died: false });
  }
  updateRunStale();
}

// After a restart (asked here, by another client, or a crash) the server registers the
// notebook's saved cells in the new kernel, once for all its tabs, and says so
// (kernel_ready).  The page then opens its comm; the snapshot says which cells the
// kernel has, and the page registers only what the file could not give: cells not
// saved yet, or edited since the last save (nothing runs).
let restartSeq = 0;

/** The new kernel answered: note its session, open the comm, reconcile. */
export async function kernelBack(message) {
  const seq = restartSeq;
  S.awaitingKernel = null;
  clearTimeout(S.awaitingTimer);
  const info = S.conn && S.conn.open ? await S.conn.request("kernel_info_request", {}, {}, 10000) : null;
  if (seq !== restartSeq) return;  // restarted again meanwhile
  if (info) S.kernelSession = info.header.session;
  S.reconcile = true;
  openStateComm();
  // It answered: it is up, even if its first statuses were published before the
  // server's subscription to the new kernel was live (PUB/SUB drops them).
  if (S.kernelState === "restarting" || S.kernelState === "starting") setKernelState("idle");
  S.restartHandling = false;
  if (message) toast(message, "info", 5000);
}

/** On the first snapshot of a new kernel: register what it lacks. */
export async function reconcile(kernelCells) {
  S.reconcile = false;
  // A new kernel starts in auto mode: the mode chosen here carries over.
  if (S.modeAfterRestart && S.modeAfterRestart !== S.mode) setMode(S.modeAfterRestart);
  S.modeAfterRestart = null;
  // The server registered the file as of S.kernelVersion: if this page's last save or
  // load is another version, every cell is registered as the page has it.
  const sameFile = S.kernelVersion != null && S.kernelVersion === S.version;
  const missing = S.cells.filter((c) => c.type === "code"
    && (!sameFile || !kernelCells.has(c.id) || c.source !== c.savedSource));
  const order = notebookOrder();
  S.sentOrder = order.join(" ");
  if (!missing.length) {
    const known = (S.ks.graph && S.ks.graph.notebook_order) || [];
    if (known.filter((id) => order.includes(id)).join(" ") === order.filter((id) => known.includes(id)).join(" ")) return;
  }
  const register = missing.map((c) => ({ cellId: c.id, code: c.source }));
  const reply = await S.conn.request("reactive_graph_request", { order, register }, {}, 30000);
  if (reply) applyGraphReply(reply.content);
}

export function onKernelRestarted(how) {
  restartSeq += 1;
  S.modeAfterRestart = S.modeAfterRestart || S.mode;
  closeAllInputs();
  forgetComms();
  if (how !== "offline") S.goneSession = S.kernelSession;
  S.restartHandling = true;
  // The cell cut short: the one running (a cascade's current cell), else the first
  // request still waiting to start; the cells queued behind it simply did not run.
  const current = S.cascade && S.cascade.current ? S.byId.get(S.cascade.current) : null;
  const pending = [...S.msgToCell.values()].map((id) => S.byId.get(id))
    .filter((c) => c && c.st.status === "queued");
  const victim = how === "offline" ? null
    : (current && current.st.status === "running" ? current : null)
      || S.cells.find((c) => c.st.status === "running") || pending[0];
  // The kernel says which cell runs only every 100 ms or so: a cell its cascade re-ran
  // may have died before the page heard of it.  Then the trigger cannot be blamed alone.
  const inCascade = !!victim && !!S.cascade && S.cascade.trigger === victim.id
    && [...S.cascade.touched].some((id) => id !== victim.id);
  const where = inCascade ? "this cell or a cell it re-ran" : "this cell";
  resetCellStates();
  if (victim) {
    const died = how === "died";
    addOutput(victim, { output_type: "error", ename: died ? "KernelDied" : "KernelRestarted",
      evalue: died ? `the kernel died while running ${where}, and was restarted: variables are gone`
        : `the kernel was restarted by another tab or client while ${where} ran: variables are gone`,
      traceback: [] });
    setState(victim, "error", { died: true,
      error: died ? "The kernel died while running this cell" : "The kernel was restarted while this cell ran" });
  }
  const message = how === "offline"
    ? "The kernel was restarted while this page was disconnected: variables are gone, cells are registered again (nothing was run)."
    : "The kernel is back: cells are registered again (nothing was run).";
  if (how === "offline") {
    S.kernelVersion = null;  // which file the server gave it is unknown here: all cells
    kernelBack(message);
    return;
  }
  // The server says kernel_ready once the new kernel has the cells; if that notice is
  // lost (this page disconnected meanwhile), the page goes ahead after a while.
  S.awaitingKernel = message;
  clearTimeout(S.awaitingTimer);
  S.awaitingTimer = setTimeout(() => { if (S.awaitingKernel) kernelBack(S.awaitingKernel); }, 60000);
}

export async function restartKernel(runAllAfter) {
  // One restart at a time: overlapping restart requests make jupyter_client fail.
  if (!S.kernelId || S.userRestart) return;
  S.userRestart = true;
  S.modeAfterRestart = S.modeAfterRestart || S.mode;
  S.goneSession = S.kernelSession;
  S.kernelSession = null;  // the new kernel's first reply sets it
  setKernelState("restarting");
  try {
    const model = await api(`/api/kernels/${S.kernelId}/restart`, { method: "POST", body: "{}" });
    const ready = model.kernel_ready || {};
    S.kernelVersion = ready.registered ? ready.version : null;
  } catch (error) {
    toast(`Restart failed: ${error.message}`, "error");
    // Show what the kernel really is now, not "Restarting…" forever.
    try {
      const model = await api(`/api/kernels/${S.kernelId}`);
      setKernelState(model.execution_state || "unknown");
    } catch {
      setKernelState("unknown");
    }
    return;
  } finally {
    S.userRestart = false;
  }
  restartSeq += 1;
  forgetComms();  // the old kernel's widgets and comms are gone
  resetCellStates();
  setBanner(null);
  if (!S.conn.open) await new Promise((r) => setTimeout(r, 500));
  // The server registered the saved cells before it answered.
  const snapshot = new Promise((resolve) => { S.onSnapshot = resolve; setTimeout(resolve, 10000); });
  await kernelBack("Kernel restarted");
  await snapshot;
  if (runAllAfter) {
    // Send every cell at once, in dependency order: each runs exactly once (deferred).
    runAll();
  }
}

/** The notebook's kernel (started, with the saved cells registered, if it had none)
 * and a connection to it. */
export async function openKernel() {
  const started = await api(nbUrl("/kernel"), { method: "POST", body: "{}" });
  if (S.conn) S.conn.close();  // (the old kernel's, which kept failing)
  S.kernelId = started.kernel.id;
  S.kernelSession = null;  // another kernel: its first reply tells its session
  S.ks = emptyKernelState();
  S.commId = null;
  S.kernelVersion = started.graph ? started.version : null;  // the file its cells came from
  if (started.graph && started.graph.content) applyGraphReply(started.graph.content);
  else if (started.graph && started.graph.cells) applyGraphReply(started.graph);
  S.conn = new KernelConnection(S.kernelId, token, { onMessage, onState: onConnState });
  S.conn.connect();
}

/** The "Start a new kernel" of a kernel shut down (here, elsewhere, or with its file). */
export function replaceGoneKernel() {
  setBanner("info", "Starting a new kernel…");
  checkKernelGone().then((replaced) => {
    if (!replaced) {
      setBanner("error", "Could not start a new kernel.", [["Try again", () => location.reload(), true]]);
    }
  });
}

// A connection that keeps failing may have lost its kernel, not the server: the
// server restarted (its kernels went with it) or someone shut the kernel down.  Then
// the notebook gets a new kernel, and the page registers its cells as they are on the
// page (edits not saved yet included) once connected.
let kernelCheck = null;
function checkKernelGone() {
  if (kernelCheck) return kernelCheck;
  if (!S.kernelId) return Promise.resolve(false);
  const kernelId = S.kernelId;
  return kernelCheck = (async () => {
    try {
      await api(`/api/kernels/${encodeURIComponent(kernelId)}`);
      return false;  // still there
    } catch (error) {
      if (error.status !== 404 || S.kernelId !== kernelId) return false;
      await openKernel();  // if this fails, the old connection's next failure tries again
      setBanner(null);
      setKernelState("starting");
      resetCellStates();
      S.newKernel = true;
      toast("This notebook has a new kernel (the old one is gone): variables are gone, "
        + "cells are registered again, nothing was run.", "info", 6000);
      return true;
    }
  })().catch(() => false /* the server is down: the connection keeps retrying */)
    .finally(() => { kernelCheck = null; });
}
