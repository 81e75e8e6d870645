// The notebook page's state (one object, S), its REST calls and page-wide notices.
import { encodePath, request } from "./api.js";
import { emptyKernelState } from "./cellstate.js";
import { newId } from "./kernel.js";
import { el } from "./render.js";

// ---- state -------------------------------------------------------------------
// The token leaves the address bar (api.js keeps it for this tab).
const params = new URLSearchParams(location.search);
if (params.has("token")) {
  params.delete("token");
  const qs = params.toString();
  history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : "") + location.hash);
}
const nbPath = decodeURIComponent(location.pathname.replace(/^\/notebooks\//, ""));

export const S = {
  path: nbPath,
  clientId: newId(),
  version: null,
  meta: {},
  nbformatMinor: 5,
  cells: [],
  byId: new Map(),
  active: null,
  kernelId: null,
  conn: null,
  kernelState: "unknown",
  graph: null,
  mode: "auto",
  modeAfterRestart: null,  // the mode to give a new kernel (it starts in auto)
  // What the kernel said on the "reactive" comm (cellstate.js): the one source of the
  // cells' run states.  commId: this page's comm; stateComm: "opening" | "live" |
  // "none" (a kernel without the comm: states then follow this page's own replies).
  ks: emptyKernelState(),
  commId: null,
  stateComm: "none",
  msgToCell: new Map(), // our execute_request msg_id -> cell id, until its idle status
  // ... and until its execute_reply (which may come after the idle: another channel).
  awaitingReply: new Map(),
  // This page's requests other than execute_request ("Run stale") whose runs are
  // saved at their idle status, as an execute_request's are.
  saveOnIdle: new Set(),
  // Code cells deleted here whose deletion has not reached the kernel yet (it goes with
  // the next order sent, or offline with the next execute_request): id -> the code cell
  // that preceded it, so an order sent meanwhile keeps it where the kernel still has it.
  deleted: new Map(),
  // Code cells merged into the cell above them (Shift+M): id -> [that cell's id, the code
  // cell that preceded it].  The kernel keeps their definitions until the merged cell runs
  // (its execute_request removes them), as the merged cell's own definitions come only then.
  merged: new Map(),
  // The cell ids, in order, of the file as this page last loaded or saved it.
  savedIds: "",
  // Cells whose outputs the user cleared since the last save: the save tells the server,
  // which then never replays their old outputs to a page that connects later.
  cleared: new Set(),
  // The server's outputs_replay came on this connection (messages.js); held: kernel
  // messages kept back while the replay waits for a newer file.
  replayed: false,
  held: null,
  sawSnapshot: false,  // the kernel's first state comm snapshot since the page loaded
  dirty: false,
  saving: false,
  saveAgain: false,     // saved again once the save in flight is done...
  saveAgainOpts: null,  // ...with what the user settled then ({force} or {recreate})
  lastSaved: null,
  conflict: null,  // the file's version when a save was refused: the user chooses
  gone: false,     // the file was deleted: saving writes it anew once the user asks
  cascade: null, // {parent, own, trigger, current, touched:Set, ran:Set}
  widgetRun: null, // {parent, own}: a comm_msg (a widget change) the kernel is handling
  graphOpen: localStorage.getItem("rk-graph-open") === "1",
  undoDeletes: [], // {index, cell (nbformat JSON), st}: Z brings the last one back
  clipboard: null, // the copied cell if localStorage is unavailable
};

/** A preference of this browser, from localStorage "rk-prefs" (a JSON object), or
 * ``fallback``: ``editorWaitMs`` (run.js) and ``autosaveMs`` (saving.js). */
export function pref(name, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem("rk-prefs") || "{}")[name];
    return typeof value === typeof fallback ? value : fallback;
  } catch {
    return fallback;
  }
}

// ---- REST ----------------------------------------------------------------------
export const api = (path, options = {}) => request(path, options, { "X-Client-Id": S.clientId });
export const nbUrl = (suffix = "") => `/api/notebooks/${encodePath(S.path)}${suffix}`;

// ---- DOM skeleton -------------------------------------------------------------------
export const $ = (id) => document.getElementById(id);
export const cellsEl = $("cells");
export const graphEl = $("graph-canvas");

export function toast(message, kind = "info", timeout = 5000) {
  const node = el("div", { class: `rk-toast rk-toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { text: message }),
    el("button", { type: "button", class: "rk-icon-btn", "aria-label": "Dismiss", text: "×",
      onclick: () => node.remove() }));
  $("toasts").append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
}

/** ``topic``: "file" for the banners about the file (a conflict, another tab's
 * changes), which a save or a reload settles; other banners (the kernel's) stay. */
export function setBanner(kind, message, actions = [], topic = null) {
  const banner = $("banner");
  S.bannerTopic = kind ? topic : null;
  if (!kind) { banner.hidden = true; banner.replaceChildren(); return; }
  banner.hidden = false;
  banner.className = `rk-banner rk-banner-${kind}`;
  banner.replaceChildren(el("span", { text: message }),
    el("span", { class: "rk-banner-actions" }, actions.map(([label, fn, primary]) =>
      el("button", { type: "button", class: primary ? "rk-btn rk-btn-primary" : "rk-btn", text: label, onclick: fn }))));
}
