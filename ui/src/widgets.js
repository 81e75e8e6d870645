// Jupyter widgets (ipywidgets 7/8, anywidget) on this page: their comms on the kernel
// connection, the widget manager (a bundle of its own, widgetmanager.js, loaded the
// first time a widget appears), views in outputs, state in the notebook's metadata.
//
// The kernel re-runs the cells that read a widget the user moves (reactive_kernel/
// widgets.py); to the page that is an ordinary cascade of outputs.  The manager's own
// throttling applies: while the kernel is busy with one change, only the latest of the
// next changes is sent once it is idle.
import { decodeBuffers, encodeBuffers } from "./buffers.js";
import { newId } from "./kernel.js";
import { renderMarkdown, sanitizeHtmlString } from "./markdown.js";
import { el } from "./render.js";
import { S } from "./store.js";

export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
const STATE_MIME = "application/vnd.jupyter.widget-state+json";
const WIDGET_TARGET = "jupyter.widget";
const MANAGER_URL = "/static/build/widgetmanager.js";

const comms = new Map();      // comm_id -> Comm (widget and control comms of this page)
const callbacks = new Map();  // msg_id of a message a comm sent -> the manager's callbacks
const views = new WeakMap();  // output data -> its rendered node (kept across re-draws)
let managerReady = null;      // Promise of the manager, once something needed it
let chain = Promise.resolve(); // widget messages and views, in the order they came
let connected = null;         // resolves when the page's kernel connection first opens
let onConnected = () => {};
const CONNECT_WAIT_MS = 15000;

/** The connection opened (lifecycle.js): a manager waiting for it may ask the kernel. */
export function widgetsConnected() { onConnected(); }

function whenConnected() {
  if (S.conn && S.conn.open) return Promise.resolve(true);
  if (!connected) {
    connected = new Promise((resolve) => {
      onConnected = () => resolve(true);
      setTimeout(() => resolve(false), CONNECT_WAIT_MS);  // then: the saved state only
    });
  }
  return connected;
}

/** A comm as ipywidgets' manager expects it (IClassicComm), on this page's connection. */
class Comm {
  constructor(commId, targetName) {
    this.comm_id = commId;
    this.target_name = targetName;
    this.onMsg = null;
    this.onClose = null;
    this.early = [];  // messages that came before the model listened
  }

  /** A comm_msg or comm_close from the kernel, in order, once the model listens. */
  deliver(kind, msg) {
    if (!this.onMsg) { this.early.push([kind, msg]); return; }
    if (kind === "close") { if (this.onClose) this.onClose(msg); } else this.onMsg(msg);
  }

  _send(type, content, cbs, metadata, buffers) {
    if (!S.conn) return "";
    const msgId = S.conn.send("shell", type, content, metadata || {}, encodeBuffers(buffers));
    if (msgId && cbs && Object.keys(cbs).length) callbacks.set(msgId, cbs);
    return msgId || "";
  }

  open(data, cbs, metadata, buffers) {
    comms.set(this.comm_id, this);
    return this._send("comm_open", { comm_id: this.comm_id, target_name: this.target_name, data: data || {} },
      cbs, metadata, buffers);
  }

  send(data, cbs, metadata, buffers) {
    return this._send("comm_msg", { comm_id: this.comm_id, data }, cbs, metadata, buffers);
  }

  close(data, cbs, metadata, buffers) {
    comms.delete(this.comm_id);
    return this._send("comm_close", { comm_id: this.comm_id, data: data || {} }, cbs, metadata, buffers);
  }

  on_msg(fn) {
    this.onMsg = fn;
    for (const [kind, msg] of this.early.splice(0)) this.deliver(kind, msg);
  }

  on_close(fn) { this.onClose = fn; }
}

// Output widgets (`with out: ...`, `interact`): the request whose outputs each captures
// (its msg_id state, set by the kernel over the widget's comm) -> the widget's comm id.
// Those outputs go to the widget, not to the cell, as in JupyterLab; they wait for the
// widget's model in the same queue as the widget messages before them.
const captures = new Map();

function noteCapture(commId, state) {
  if (!state || typeof state !== "object" || !("msg_id" in state)) return;
  for (const [id, owner] of captures) if (owner === commId) captures.delete(id);
  if (state.msg_id) captures.set(state.msg_id, commId);
}

function capture(commId, type, content) {
  let output = null;
  if (type === "stream") output = { output_type: "stream", name: content.name, text: content.text || "" };
  else if (type === "error") {
    output = { output_type: "error", ename: content.ename, evalue: content.evalue, traceback: content.traceback || [] };
  } else if (type !== "clear_output") {
    output = { output_type: type, data: content.data || {}, metadata: content.metadata || {} };
    if (type === "execute_result") output.execution_count = content.execution_count;
  }
  later(async () => {
    const m = await manager();
    if (!m.has_model(commId)) return;
    const model = await m.get_model(commId);
    if (output) model.outputs.add(output);
    else model.clear_output(!!content.wait);
    syncOutputs(model);
  });
}

// What an Output widget captured is its state, as JupyterLab keeps it: synced back to the
// kernel (a reloaded page gets it from there; the kernel takes `outputs` as bookkeeping,
// never a user's change) and saved with the widget state. Once per burst of outputs.
const OUTPUT_SYNC_MS = 20;
const outputSyncs = new Map();  // model -> timer

function syncOutputs(model) {
  if (outputSyncs.has(model)) return;
  outputSyncs.set(model, setTimeout(() => sendOutputs(model), OUTPUT_SYNC_MS));
}

function sendOutputs(model) {
  clearTimeout(outputSyncs.get(model));
  outputSyncs.delete(model);
  if (model.comm_live === false) return;
  model.set("outputs", model.outputs.toJSON(), { newMessage: true });
  model.save_changes();
}

// A page that goes away sends what it still owes (a reload right after an output).
addEventListener("pagehide", () => { for (const model of [...outputSyncs.keys()]) sendOutputs(model); });

/** What the manager bundle asks of the page. */
const host = {
  createComm(targetName, modelId, data, metadata, buffers) {
    const comm = new Comm(modelId || newId(), targetName);
    comms.set(comm.comm_id, comm);
    if (data !== undefined || metadata !== undefined) comm.open(data, {}, metadata, buffers);
    return comm;
  },
  async commInfo() {
    const reply = S.conn && await S.conn.request("comm_info_request", { target_name: WIDGET_TARGET });
    return (reply && reply.content && reply.content.comms) || {};
  },
};

// HTML in a saved state is the file's, not a kernel's: the HTML and HTMLMath widgets'
// values and an Output widget's outputs (which its manager renders as trusted) are
// sanitised as the page's own HTML outputs are (Markdown becomes its sanitised HTML),
// and scripts dropped.
const HTML_VALUE_MODELS = new Set(["HTMLModel", "HTMLMathModel"]);

function sanitizedSaved(widget) {
  const state = widget.state && typeof widget.state === "object" ? { ...widget.state } : widget.state;
  if (!state || typeof state !== "object") return widget;
  if (HTML_VALUE_MODELS.has(widget.model_name) && typeof state.value === "string") {
    state.value = sanitizeHtmlString(state.value);
  }
  if (Array.isArray(state.outputs)) {
    state.outputs = state.outputs.map((output) => {
      if (!output || typeof output !== "object" || !output.data || typeof output.data !== "object") return output;
      const data = {};
      for (const [mime, value] of Object.entries(output.data)) {
        const text = Array.isArray(value) ? value.join("") : value;
        if (/javascript|ecmascript/i.test(mime)) continue;
        if (mime === "text/html" && typeof text === "string") data[mime] = sanitizeHtmlString(text);
        else if (mime === "text/markdown" && typeof text === "string") {
          if (!("text/html" in output.data)) data["text/html"] = renderMarkdown(text);
        } else data[mime] = value;
      }
      return { ...output, data };
    });
  }
  return { ...widget, state };
}

function savedState() {
  const saved = S.meta && S.meta.widgets && S.meta.widgets[STATE_MIME];
  return saved && typeof saved.state === "object" ? saved.state : {};
}

/** The manager, loaded and filled on first use: the kernel's live widgets, then the
 * notebook's saved state for those the kernel does not have (a new kernel). */
function manager() {
  if (!managerReady) {
    managerReady = (async () => {
      const { createManager } = await import(/* @vite-ignore */ MANAGER_URL);
      const m = createManager(host);
      // The kernel's live widgets (ManagerBase's own loader, as JupyterLab's manager uses
      // it: a protected method, so checked); its fallback for old kernels waits on each
      // widget's answer without a limit, hence the bound.
      if (typeof m._loadFromKernel === "function" && await whenConnected()) {
        try { await bounded(m._loadFromKernel(), LOAD_MS, "the kernel's widgets"); } catch (error) {
          console.warn("widgets: kernel state", error);
        }
      }
      const missing = Object.fromEntries(Object.entries(savedState())
        .filter(([id, w]) => !m.has_model(id) && w && w.model_module !== "anywidget")
        .map(([id, w]) => [id, sanitizedSaved(w)]));
      if (Object.keys(missing).length) {
        try { await m.set_state({ version_major: 2, version_minor: 0, state: missing }); } catch (error) {
          console.warn("widgets: saved state", error);
        }
      }
      return m;
    })();
  }
  return managerReady;
}

const LOAD_MS = 10000;  // the kernel's widgets, when the manager starts
const STEP_MS = 15000;  // one widget message or view: the queue moves on after it
const SAVE_MS = 5000;   // the widgets' state, before a save

/** `promise`, or a rejection after `ms` (what waits on it is never stuck). */
function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function later(task) {
  chain = chain.then(() => bounded(Promise.resolve().then(task), STEP_MS, "a widget step"))
    .catch((error) => console.error("widgets:", error));
  return chain;
}

/** A kernel message about widgets; true if it was one (handled here). */
export function onWidgetMessage(msg, type) {
  const content = msg.content || {};
  const parentId = msg.parent_header && msg.parent_header.msg_id;
  if (parentId && callbacks.has(parentId)) {
    const cbs = callbacks.get(parentId);
    if (type === "status") {
      if (cbs.iopub && cbs.iopub.status) cbs.iopub.status(msg);
      if (content.execution_state === "idle") callbacks.delete(parentId);
    } else if (msg.channel === "shell" && cbs.shell && cbs.shell.reply) {
      cbs.shell.reply(msg);
    }
  }
  if (msg.channel !== "iopub") return false;
  if (parentId && captures.has(parentId)
      && ["stream", "display_data", "execute_result", "error", "clear_output"].includes(type)) {
    capture(captures.get(parentId), type, content);
    return true;
  }
  if (type === "comm_open") {
    if (content.target_name !== WIDGET_TARGET) return false;
    noteCapture(content.comm_id, content.data && content.data.state);
    const full = { ...msg, buffers: decodeBuffers(msg.buffers) };
    const comm = new Comm(content.comm_id, WIDGET_TARGET);
    comms.set(comm.comm_id, comm);  // its messages wait on it until the model listens
    later(async () => {
      const m = await manager();
      if (m.has_model(content.comm_id)) return;  // loaded from the kernel just now
      await m.handle_comm_open(comm, full);
    });
    return true;
  }
  const comm = content.comm_id && comms.get(content.comm_id);
  if (!comm) return false;
  const full = { ...msg, buffers: decodeBuffers(msg.buffers) };
  if (type === "comm_msg") {
    const data = content.data || {};
    if (data.method === "update" || data.method === "echo_update") noteCapture(comm.comm_id, data.state);
    comm.deliver("msg", full);
  }
  else if (type === "comm_close") {
    comms.delete(comm.comm_id);
    closed.add(comm.comm_id);
    comm.deliver("close", full);
  }
  return true;
}

// Widgets the kernel closed while this page watched (`tqdm(leave=False)` closes its bar
// when done): a view of one drawn later shows nothing, as in JupyterLab, not its text.
const closed = new Set();

/** An output's widget view: a node at once, the view drawn into it when the model is
 * there (else the output's text form). */
export function widgetOutput(data) {
  const known = views.get(data);
  if (known) return known;
  const spec = data[WIDGET_VIEW_MIME] || {};
  const node = el("div", { class: "rk-widget", "data-model-id": spec.model_id || "" });
  views.set(data, node);
  later(async () => {
    const m = await manager();
    if (!spec.model_id || !m.has_model(spec.model_id)) {
      if (closed.has(spec.model_id)) return;
      const text = data["text/plain"];
      node.append(el("pre", { class: "rk-text rk-muted",
        text: text ? (Array.isArray(text) ? text.join("") : text) : "[a widget this kernel no longer has]" }));
      return;
    }
    const model = await m.get_model(spec.model_id);
    if (model.comm_live === false) {
      // Drawn from the notebook's saved state (a kernel without it): its value shows,
      // but nothing the user does reaches a kernel.
      inactive(node, "saved with the notebook", "This widget is drawn from the notebook's saved state: "
        + "this kernel does not have it. Run its cell again to use it.");
    }
    const view = await m.create_view(model, {});
    // A view can only be attached in the page: one whose node is not there yet waits
    // for it (off the message queue), one replaced before it was drawn is dropped.
    if (node.isConnected) await m.display_view(view, node);
    else whenAttached(node, () => m.display_view(view, node));
  });
  return node;
}

function whenAttached(node, then, tries = 0) {
  if (node.isConnected) {
    Promise.resolve(then()).catch((error) => console.error("widgets:", error));
  } else if (tries < 100) {
    setTimeout(() => whenAttached(node, then, tries + 1), 50);
  }
}

/** The widgets' state for the notebook's metadata (as JupyterLab saves it). */
export async function saveWidgetState() {
  if (!managerReady) return;
  try {
    const m = await bounded(managerReady, SAVE_MS, "the widget manager");
    const state = await bounded(m.get_state({ drop_defaults: true }), SAVE_MS, "the widgets' state");
    S.meta.widgets = { [STATE_MIME]: state };
  } catch (error) {
    console.warn("widgets: could not save their state", error);
  }
}

/** A widget view that no kernel widget stands behind: greyed, taking no input. */
function inactive(node, why, title) {
  node.classList.add("rk-widget-dead");
  node.dataset.inactive = `inactive: ${why} — run the cell again`;
  node.title = title;
}

/** A new kernel (restart): its widgets are new ones. */
export function forgetComms() {
  // The views on the page belong to the old kernel's widgets: they say so, and take no
  // input that would silently go nowhere (run the cell again for a live one).
  for (const node of document.querySelectorAll(".rk-widget")) {
    inactive(node, "the kernel restarted",
      "This widget belonged to the kernel before its restart: run its cell again to use it.");
  }
  comms.clear();
  closed.clear();
  captures.clear();
  callbacks.clear();
}
