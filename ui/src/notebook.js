// The notebook page: cells, editors, outputs, reactive state, kernel controls, graph.
import { createEditor, cellLanguage } from "./editor.js";
import { el, renderOutput, renderMarkdown, plainStreamText } from "./render.js";
import { drawGraph, related } from "./graph.js";
import { KernelConnection, newId } from "./kernel.js";
import { COMM_TARGET, STATUSES, applyKernelMessage, badge, cellsThatRan, emptyKernelState } from "./cellstate.js";

// ---- state -------------------------------------------------------------------
const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("rk-token") || "";
if (token) sessionStorage.setItem("rk-token", token);
if (params.has("token")) {
  params.delete("token");
  const qs = params.toString();
  history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : "") + location.hash);
}
const nbPath = decodeURIComponent(location.pathname.replace(/^\/notebooks\//, ""));

const S = {
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
  // What the kernel said on the "reactive" comm (cellstate.js): the one source of the
  // cells' run states.  commId: this page's comm; stateComm: "opening" | "live" |
  // "none" (a kernel without the comm: states then follow this page's own replies).
  ks: emptyKernelState(),
  commId: null,
  stateComm: "none",
  msgToCell: new Map(), // our execute_request msg_id -> cell id
  // Code cells deleted here whose deletion has not reached the kernel yet (it travels
  // with the next execute_request): id -> the code cell that preceded it, so the order
  // sent meanwhile keeps it where the kernel still has it.
  deleted: new Map(),
  dirty: false,
  saving: false,
  lastSaved: null,
  conflict: null,
  cascade: null, // {parent, own, trigger, current, touched:Set, ran:Set}
  graphOpen: localStorage.getItem("rk-graph-open") === "1",
  undoDeletes: [], // {index, cell (nbformat JSON), st}: Z brings the last one back
  clipboard: null, // the copied cell if localStorage is unavailable
};

// ---- REST ----------------------------------------------------------------------
async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `token ${token}`, "Content-Type": "application/json",
      "X-Client-Id": S.clientId },
  });
  let body = null;
  if (response.status !== 204) {
    try { body = await response.json(); } catch { body = null; }
  }
  if (!response.ok) {
    const error = new Error(body && body.message ? body.message : response.statusText);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}
const nbUrl = (suffix = "") => `/api/notebooks/${S.path.split("/").map(encodeURIComponent).join("/")}${suffix}`;

// ---- DOM skeleton -------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
const cellsEl = $("cells");
const graphEl = $("graph-canvas");

function toast(message, kind = "info", timeout = 5000) {
  const node = el("div", { class: `rk-toast rk-toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { text: message }),
    el("button", { type: "button", class: "rk-icon-btn", "aria-label": "Dismiss", text: "×",
      onclick: () => node.remove() }));
  $("toasts").append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
}

/** ``topic``: "file" for the banners about the file (a conflict, another tab's
 * changes), which a save or a reload settles; other banners (the kernel's) stay. */
function setBanner(kind, message, actions = [], topic = null) {
  const banner = $("banner");
  S.bannerTopic = kind ? topic : null;
  if (!kind) { banner.hidden = true; banner.replaceChildren(); return; }
  banner.hidden = false;
  banner.className = `rk-banner rk-banner-${kind}`;
  banner.replaceChildren(el("span", { text: message }),
    el("span", { class: "rk-banner-actions" }, actions.map(([label, fn, primary]) =>
      el("button", { type: "button", class: primary ? "rk-btn rk-btn-primary" : "rk-btn", text: label, onclick: fn }))));
}

// ---- cells -------------------------------------------------------------------------------
const joinSrc = (s) => (Array.isArray(s) ? s.join("") : s || "");

function makeCell(raw) {
  const cell = {
    id: raw.id || newId().slice(0, 12),
    type: raw.cell_type === "markdown" ? "markdown" : raw.cell_type === "raw" ? "raw" : "code",
    source: joinSrc(raw.source),
    savedSource: joinSrc(raw.source),  // as the file has it (what the server registers)
    outputs: raw.cell_type === "code" ? (raw.outputs || []).map((o) => ({ ...o })) : [],
    execution_count: raw.execution_count ?? null,
    metadata: raw.metadata || {},
    attachments: raw.attachments,
    st: { status: "idle", duration: null, error: null, skippedBecause: null, startedAt: 0 },
    pendingClear: false,
    editingMd: false,
  };
  buildCellDom(cell);
  return cell;
}

function iconButton(label, text, onclick, extra = {}) {
  return el("button", { type: "button", class: "rk-icon-btn", "aria-label": label, title: label,
    text, onclick: (e) => { e.stopPropagation(); onclick(); }, ...extra });
}

function buildCellDom(cell) {
  cell.promptEl = el("div", { class: "rk-prompt", "aria-hidden": "true" });
  cell.badgeEl = el("span", { class: "rk-badge", role: "status" });
  cell.langEl = el("span", { class: "rk-lang" });
  cell.staleBtn = el("button", { type: "button", class: "rk-btn rk-btn-small", text: "Run stale",
    "aria-label": "Run this stale cell and its stale ancestors", hidden: true,
    onclick: (e) => { e.stopPropagation(); runCell(cell); } });
  const tools = el("div", { class: "rk-cell-tools" },
    iconButton("Run cell", "▶", () => runCell(cell)),
    iconButton("Move cell up", "↑", () => moveCell(cell, -1)),
    iconButton("Move cell down", "↓", () => moveCell(cell, 1)),
    cell.typeBtn = iconButton("Change cell type", "M", () => setType(cell, cell.type === "code" ? "markdown" : "code")),
    iconButton("Insert cell below", "+", () => insertCell(indexOf(cell) + 1, "code", true)),
    iconButton("Delete cell", "✕", () => deleteCell(cell), { class: "rk-icon-btn rk-danger" }));
  cell.editorEl = el("div", { class: "rk-editor" });
  cell.mdEl = el("div", { class: "rk-md-view rk-markdown", title: "Double-click to edit",
    ondblclick: () => editMarkdown(cell, true) });
  cell.outEl = el("div", { class: "rk-outputs", "aria-live": "polite" });
  cell.el = el("section", { class: "rk-cell", tabindex: "0", "data-cell-id": cell.id },
    el("div", { class: "rk-gutter" }, cell.promptEl),
    el("div", { class: "rk-cell-main" },
      el("div", { class: "rk-cell-head" }, cell.badgeEl, cell.staleBtn, cell.langEl, tools),
      el("div", { class: "rk-input" }, cell.editorEl, cell.mdEl),
      cell.outEl));
  cell.el.addEventListener("focusin", () => selectCell(cell, false));
  cell.el.addEventListener("mousedown", () => selectCell(cell, false));
  cell.editor = createEditor(cell.editorEl, cell.source, cell.type, {
    onChange(text) {
      cell.source = text;
      markDirty();
      updateCellChrome(cell);
    },
    onRun(advance) { runAndMaybeAdvance(cell, advance, true); },
    onEscape() { commandMode(cell); },
    onFocus() { selectCell(cell, false); },
    onSave() { save(); },
    async complete(code, pos) {
      if (!S.conn || !S.conn.open) return null;
      const reply = await S.conn.request("complete_request", { code, cursor_pos: pos }, {}, 10000);
      return reply ? reply.content : null;
    },
    onInspect(code, pos) { inspect(cell, code, pos); },
  });
  updateCellChrome(cell);
  renderOutputs(cell);
  renderState(cell);
}

function indexOf(cell) { return S.cells.indexOf(cell); }
function cellNumber(id) { const i = S.cells.findIndex((c) => c.id === id); return i < 0 ? "?" : `#${i + 1}`; }
function firstLine(id) {
  const cell = S.byId.get(id);
  if (!cell) return id;
  const line = cell.source.split("\n").find((l) => l.trim()) || "(empty)";
  return line.trim();
}

// Text and attributes are written only when they change: every write invalidates the
// page's layout, and this runs for the trigger cell while its cascade streams in.
function putText(node, text) { if (node.textContent !== text) node.textContent = text; }
function putAttr(node, name, value) { if (node.getAttribute(name) !== value) node.setAttribute(name, value); }

function updateCellChrome(cell) {
  cell.el.classList.toggle("rk-markdown-cell", cell.type === "markdown");
  cell.el.classList.toggle("rk-code-cell", cell.type === "code");
  const lang = cellLanguage(cell.type, cell.source);
  putText(cell.langEl, lang === "sql" ? "SQL" : lang === "markdown" ? "Markdown" : "Python");
  putAttr(cell.langEl, "data-lang", lang);
  putText(cell.typeBtn, cell.type === "code" ? "M" : "Py");
  const typeLabel = cell.type === "code" ? "Change to Markdown cell" : "Change to code cell";
  putAttr(cell.typeBtn, "aria-label", typeLabel);
  putAttr(cell.typeBtn, "title", typeLabel);
  const showMd = cell.type === "markdown" && !cell.editingMd;
  cell.mdEl.hidden = !showMd;
  cell.editorEl.hidden = showMd;
  if (showMd) {
    cell.mdEl.innerHTML = cell.source.trim() ? renderMarkdown(cell.source)
      : '<p class="rk-muted">Empty Markdown cell — double-click to edit.</p>';
  }
  putText(cell.promptEl, cell.type === "code" ? `[${cell.execution_count ?? " "}]` : "");
  putAttr(cell.el, "aria-label", `Cell ${indexOf(cell) + 1}, ${cell.langEl.textContent}`);
}

const outputsHidden = (cell) => !!(cell.metadata.jupyter && cell.metadata.jupyter.outputs_hidden);

function renderOutputs(cell) {
  cell.renderQueued = false;
  if (cell.outputs.length && outputsHidden(cell)) {
    const n = cell.outputs.length;
    cell.outEl.replaceChildren(el("button", {
      type: "button", class: "rk-outputs-collapsed", text: `${n} output${n === 1 ? "" : "s"} hidden · show`,
      title: "Show the outputs (O)", onclick: (e) => { e.stopPropagation(); toggleOutputs(cell); },
    }));
    cell.outEl.hidden = false;
    return;
  }
  if (patchStreams(cell)) return;
  const nodes = cell.outputs.map((o) => {
    const shown = o.output_type === "stream" && o.name === "stderr"
      ? { ...o, text: joinSrc(o.text).replace(/upstream cell (\S+?) failed/g, (all, id) =>
        (S.byId.has(id) ? `upstream cell ${cellNumber(id)} (${firstLine(id)}) failed` : all)) }
      : o;
    const node = renderOutput(shown, o);
    const wrap = el("div", { class: `rk-output rk-output-${o.output_type}` }, node);
    if (o.output_type === "execute_result" && o.execution_count != null) {
      wrap.prepend(el("div", { class: "rk-out-prompt", text: `Out[${o.execution_count}]` }));
    }
    const text = o.name === "stdout" ? plainStreamText(o) : null;
    if (text !== null && node.childNodes.length <= 1) {
      if (!node.firstChild) node.append(document.createTextNode(""));
      plainStreams.set(wrap, node.firstChild);
    }
    return wrap;
  });
  cell.outEl.replaceChildren(...nodes);
  cell.outEl.hidden = nodes.length === 0;
}

// A re-run cell usually prints what it printed before with other values: its stdout
// blocks are kept and only their text replaced, which spares the browser building and
// styling new elements for every cell of a cascade (the frame that paints it is shorter).
const plainStreams = new WeakMap(); // .rk-output wrapper of a plain stdout block -> its text node

function patchStreams(cell) {
  const shown = cell.outEl.children;
  const outputs = cell.outputs;
  if (!outputs.length || shown.length !== outputs.length) return false;
  const texts = [];
  for (let i = 0; i < outputs.length; i++) {
    const text = outputs[i].name === "stdout" ? plainStreamText(outputs[i]) : null;
    if (text === null || !plainStreams.has(shown[i])) return false;
    texts.push(text);
  }
  texts.forEach((text, i) => {
    const node = plainStreams.get(shown[i]);
    if (node.data !== text) node.data = text;
  });
  cell.outEl.hidden = false;
  return true;
}

// Cells to redraw, all in one animation-frame callback: a cascade brings several
// messages per cell between two frames, and only the last state is ever painted.
// While a cascade streams in, the page draws at most once every CASCADE_FRAME_MS, the
// first time CASCADE_FRAME_MS after it began (one too short to see is drawn once):
// each frame of a long notebook costs the browser several ms of style, layout and
// paint, and on a small machine that CPU is taken from the kernel and the server
// relaying the cascade, so a page drawing every frame made the cascade itself slower.
// The cascade's end (its idle status) draws at once, in the task that handled it: the
// next frame paints it without waiting for an animation-frame callback first.
const CASCADE_FRAME_MS = 100;
const drawQueue = new Set();
let drawPending = false;
let drawTimer = null;
let lastDraw = -Infinity;

function queueDraw(cell) {
  drawQueue.add(cell);
  if (drawPending) return;
  drawPending = true;
  const wait = S.cascade ? lastDraw + CASCADE_FRAME_MS - performance.now() : 0;
  if (wait > 0) {
    drawTimer = setTimeout(() => { drawTimer = null; requestAnimationFrame(drawQueued); }, wait);
  } else {
    requestAnimationFrame(drawQueued);
  }
}

/** Draw what is queued now, not in a later frame or after the cascade's interval. */
function drawSoon() {
  clearTimeout(drawTimer);
  drawTimer = null;
  if (drawPending) drawQueued();
}

function drawQueued() {
  if (!drawPending) return;  // drawn already (drawSoon) before this frame's callback
  drawPending = false;
  lastDraw = performance.now();
  const cells = [...drawQueue];
  drawQueue.clear();
  for (const cell of cells) {
    if (cell.renderQueued) renderOutputs(cell);
    if (cell.stateQueued) renderState(cell);
  }
}

function queueRender(cell) {
  if (cell.renderQueued) return;
  cell.renderQueued = true;
  queueDraw(cell);
}

const badgeNames = { number: (id) => cellNumber(id), firstLine: (id) => firstLine(id) };

function renderState(cell) {
  cell.stateQueued = false;
  const st = cell.st;
  const badgeEl = cell.badgeEl;
  const { status, text, title } = badge({
    status: cell.type === "code" ? st.status : "idle",
    durationMs: st.duration, error: st.error, skippedBecause: st.skippedBecause,
    runningMs: st.status === "running" ? performance.now() - st.startedAt : null,
  }, badgeNames);
  // Only what changed is written: every write invalidates style.
  const shown = cell.shownState || {};
  if (shown.status !== status) {
    badgeEl.className = `rk-badge rk-badge-${status}`;
    badgeEl.dataset.status = status;
    cell.staleBtn.hidden = status !== "stale";
    for (const s of STATUSES) cell.el.classList.toggle(`rk-state-${s}`, s === status);
  }
  if (shown.text !== text) {
    badgeEl.textContent = text;
    badgeEl.hidden = !text;
  }
  if (shown.title !== title) badgeEl.title = title;
  const mark = cell.mark || null;
  if (shown.mark !== mark) {
    cell.el.classList.toggle("rk-trigger", mark === "trigger");
    cell.el.classList.toggle("rk-reran", mark === "reran");
  }
  cell.shownState = { status, text, title, mark };
}

/** Mark a cell as the trigger of the last cascade, one it re-ran, or neither (null);
 * drawn with its state. */
function setMark(cell, mark) {
  if ((cell.mark || null) === mark) return;
  cell.mark = mark;
  if (cell.stateQueued) return;
  cell.stateQueued = true;
  queueDraw(cell);
}

/** Set a cell's run state; the badge and classes follow in the next frame. */
function setState(cell, status, extra = {}) {
  Object.assign(cell.st, { status }, extra);
  if (status === "running" && !extra.startedAt) cell.st.startedAt = performance.now();
  if (cell.stateQueued) return;
  cell.stateQueued = true;
  queueDraw(cell);
}

// A running cell's elapsed time ticks; one that started under 100 ms ago is left to
// the next draw (a cascade's cells mostly run for less: no frame just for them).
setInterval(() => {
  const now = performance.now();
  for (const cell of S.cells) {
    if (cell.st.status === "running" && now - cell.st.startedAt >= 100) renderState(cell);
  }
}, 100);

function renumber() {
  S.cells.forEach((cell, i) => {
    cell.el.setAttribute("aria-label", `Cell ${i + 1}, ${cell.langEl.textContent}`);
    if (cell.st.status === "skipped") renderState(cell);
  });
  drawGraphPanel();
}

function mountCells() {
  cellsEl.replaceChildren(...S.cells.map((c) => c.el));
  S.byId = new Map(S.cells.map((c) => [c.id, c]));
  renumber();
  sendOrder();
}

// The kernel binds a cell's reads to the nearest cell above that defines the name, so it
// needs the notebook's order: on open, and after every insert, move, delete and paste.
function previousCodeId(cell) {
  let previous = null;
  for (const c of S.cells) {
    if (c === cell) return previous;
    if (c.type === "code") previous = c.id;
  }
  return previous;
}

/** Code cell ids in notebook order, deleted cells the kernel still has kept in place. */
function notebookOrder() {
  const order = S.cells.filter((c) => c.type === "code").map((c) => c.id);
  for (const [id, after] of S.deleted) {
    if (order.includes(id)) continue;
    const at = after === null ? -1 : order.indexOf(after);
    order.splice(at + 1, 0, id);
  }
  return order;
}

let orderQueued = false;
function sendOrder() {
  if (orderQueued) return;
  orderQueued = true;
  queueMicrotask(() => {
    orderQueued = false;
    const order = notebookOrder();
    const key = order.join(" ");
    if (!S.conn || !S.conn.open || key === S.sentOrder) return;
    S.sentOrder = key;
    S.conn.send("shell", "reactive_graph_request", { order });
  });
}

// ---- selection and modes ----------------------------------------------------------------------
function selectCell(cell, focus = true) {
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

function commandMode(cell) {
  if (cell.type === "markdown" && cell.editingMd) editMarkdown(cell, false);
  selectCell(cell, false);
  cell.el.focus();
}

function editMode(cell) {
  selectCell(cell, false);
  if (cell.type === "markdown") editMarkdown(cell, true);
  else cell.editor.focus();
}

function editMarkdown(cell, on) {
  cell.editingMd = on;
  updateCellChrome(cell);
  if (on) cell.editor.focus();
}

function highlightRelations() {
  const graph = S.graph;
  const sel = S.active && S.active.id;
  const rel = graph && sel && graph.cells[sel] ? related(graph.cells, sel) : null;
  for (const cell of S.cells) {
    cell.el.classList.toggle("rk-upstream", !!rel && rel.up.has(cell.id));
    cell.el.classList.toggle("rk-downstream", !!rel && rel.down.has(cell.id));
  }
}

// ---- editing operations -----------------------------------------------------------------------
function markDirty() {
  S.dirty = true;
  S.editCounter = (S.editCounter || 0) + 1;
  updateSaveState();
}

function insertCell(index, type = "code", edit = true, source = "") {
  const cell = makeCell({ cell_type: type, source, id: newId().slice(0, 12) });
  S.cells.splice(index, 0, cell);
  mountCells();
  markDirty();
  if (edit) editMode(cell);
  else selectCell(cell);
  return cell;
}

function deleteCell(cell, verb = "Deleted") {
  const i = indexOf(cell);
  if (i < 0) return;
  if (cell.type === "code") S.deleted.set(cell.id, previousCodeId(cell));
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
// reached the kernel yet (it travels with the next execute_request), the kernel still
// holds the cell's definitions: it comes back as it was.  If it has, the kernel removed
// them: its code is registered again (nothing runs) and its old outputs are dropped,
// since nothing in the kernel backs them any more.
function undoDelete() {
  const last = S.undoDeletes.pop();
  if (!last) { toast("Nothing to undo", "info", 2000); return; }
  const raw = last.cell;
  const id = S.byId.has(raw.id) ? newId().slice(0, 12) : raw.id;
  // As it was only if the kernel has not moved on: the deletion not sent yet, the cell
  // not re-run since (by another tab's cascade), not deleted while it ran.
  const known = S.graph && S.graph.cells[raw.id];
  const stillKnown = raw.cell_type === "code" && id === raw.id && S.deleted.has(raw.id)
    && !!known && known.runs === last.runs && !["queued", "running"].includes(last.st.status);
  if (raw.cell_type === "code" && id === raw.id) S.deleted.delete(raw.id);
  const cell = makeCell({ ...raw, id, ...(stillKnown ? {} : { outputs: [], execution_count: null }) });
  if (stillKnown) Object.assign(cell.st, last.st);
  S.cells.splice(Math.min(last.index, S.cells.length), 0, cell);
  mountCells();
  if (stillKnown) renderState(cell);
  else if (cell.type === "code" && S.conn && S.conn.open) {
    S.conn.request("reactive_graph_request", { register: [{ cellId: cell.id, code: cell.source }] }, {}, 30000)
      .then((reply) => { if (reply) applyGraphReply(reply.content); });
  }
  markDirty();
  selectCell(cell);
}

// C / X / V: one cell at a time, through localStorage so that it can be pasted into
// another notebook (or tab) of this server.  A pasted cell is a new cell: new id, no
// outputs (they came from another cell's run).
const CLIPBOARD_KEY = "rk-cell-clipboard";
function copyCell(cell, quiet = false) {
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

function cutCell(cell) {
  copyCell(cell, true);
  deleteCell(cell, "Cut");
}

function pasteCell(index) {
  const raw = clipboardCell();
  if (!raw) { toast("Nothing to paste: copy a cell with C first", "info", 2500); return; }
  const cell = makeCell({ ...raw, id: newId().slice(0, 12), outputs: [], execution_count: null });
  S.cells.splice(index, 0, cell);
  mountCells();
  markDirty();
  selectCell(cell);
}

function toggleOutputs(cell) {
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

function moveCell(cell, delta) {
  const i = indexOf(cell);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= S.cells.length) return;
  S.cells.splice(i, 1);
  S.cells.splice(j, 0, cell);
  mountCells();
  markDirty();
  selectCell(cell);
}

function setType(cell, type) {
  if (cell.type === type) return;
  if (cell.type === "code") S.deleted.set(cell.id, previousCodeId(cell));
  else S.deleted.delete(cell.id);
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

// ---- running ---------------------------------------------------------------------------------
function ensureConnected() {
  if (S.conn && S.conn.open) return true;
  toast("Not connected to the kernel — reconnecting…", "error");
  if (S.conn) S.conn.reconnectNow();
  return false;
}

/** Run a cell; its execute_request's msg_id, or null if none was sent. */
function runCell(cell, extra = {}) {
  if (cell.type === "markdown") { editMarkdown(cell, false); return null; }
  if (cell.type !== "code" || !ensureConnected()) return null;
  const metadata = { cellId: cell.id, ...extra };
  if (S.deleted.size) metadata.deletedCells = [...S.deleted.keys()];
  const msgId = S.conn.execute(cell.source, metadata);
  if (!msgId) return null;
  S.deleted.clear();
  S.msgToCell.set(msgId, cell.id);
  cell.outputs = [];
  cell.pendingClear = false;
  renderOutputs(cell);
  setState(cell, "queued", { error: null, skippedBecause: null, died: false });
  markDirty();
  return msgId;
}

/** advance: false (stay), true (next cell, a new one after the last) or "insert"
 * (a new cell below, edited). */
function runAndMaybeAdvance(cell, advance, fromEditor) {
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
}

// Shift+Enter moves the focus into the next cell at once, but that cell's CodeMirror
// view is made once the run is over (or at the first key or click in it, or after
// S.editorWaitMs): making it is script, a forced layout and two more frames on a long
// notebook, which on a small machine competed with the cascade the keystroke started.
S.editorWaitMs = 400;
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
  waitingTimer = setTimeout(settleEditor, S.editorWaitMs);
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

function settleEditorWhenIdle(msgId) {
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

function runAll() {
  if (!ensureConnected()) return;
  const order = (S.graph && S.graph.order) || [];
  const codeIds = S.cells.filter((c) => c.type === "code").map((c) => c.id);
  const inGraph = order.filter((id) => codeIds.includes(id));
  const rest = codeIds.filter((id) => !inGraph.includes(id));
  runMany([...inGraph, ...rest]);
}

/** A reactive_graph_request (mode, run_stale): its reply's error, if any, as a toast.
 * The states it changes come on the comm. */
async function graphRequest(content, what) {
  if (!ensureConnected()) return null;
  const reply = await S.conn.request("reactive_graph_request", content, {}, 120000);
  if (reply && reply.content.status !== "ok") toast(`${what} failed: ${reply.content.evalue}`, "error");
  return reply;
}

function setMode(mode) {
  S.mode = mode;  // the comm's mode message confirms it
  updateModeSwitch();
  graphRequest({ mode }, "Switching mode");
}

function runStale() {
  graphRequest({ run_stale: true }, "Running stale cells");
}

function updateModeSwitch() {
  const lazy = S.mode === "lazy";
  $("mode-switch").setAttribute("aria-checked", String(lazy));
  $("mode-label").textContent = lazy ? "Lazy" : "Auto";
  $("run-stale").hidden = !lazy;
}

// ---- kernel messages --------------------------------------------------------------------------------
function msgType(msg) { return (msg.header && msg.header.msg_type) || msg.msg_type; }

// A cascade, from its request's busy to its idle: which cell started it (this page's
// request, else the first cell with an output), which cells had output (touched), which
// ran (the comm says so).  States are the kernel's; this is about outputs and marks.
function beginCascade(parent, own) {
  if (S.cascade) endCascade();
  S.cascade = { parent, own, trigger: own ? S.msgToCell.get(parent) || null : null,
    current: null, touched: new Set(), ran: new Set() };
  lastDraw = Math.max(lastDraw, performance.now()); // a short cascade draws once, at its end
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

function addOutput(cell, output) {
  if (cell.pendingClear) { cell.outputs = []; cell.pendingClear = false; }
  const last = cell.outputs[cell.outputs.length - 1];
  if (output.output_type === "stream" && last && last.output_type === "stream" && last.name === output.name) {
    last.text = joinSrc(last.text) + output.text;
  } else {
    cell.outputs.push(output);
  }
  queueRender(cell);
  if (!S.cascade || S.cascade.own) outputsChanged();
}

// Outputs are part of the file. One that arrives while a save is in flight (or after
// it) must leave the page dirty, or the autosave after the run finds nothing to do and
// the output never reaches the disk. Outputs of other tabs' runs are theirs to save.
function outputsChanged() {
  S.editCounter = (S.editCounter || 0) + 1;
  if (!S.dirty) { S.dirty = true; updateSaveState(); }
}

function onMessage(msg) {
  const type = msgType(msg);
  if (msg.channel === "server") { onServerMessage(type, msg.content || {}); return; }
  // The last words of a kernel being replaced (a cell it interrupts on its way out, its
  // replies) must not overwrite what the page decided when it heard of the restart.
  if (S.goneSession && msg.header && msg.header.session === S.goneSession) return;
  const content = msg.content || {};
  const parent = msg.parent_header || {};
  const parentId = parent.msg_id;
  const cellId = (msg.metadata && msg.metadata.cellId) || S.msgToCell.get(parentId);
  const cell = cellId ? S.byId.get(cellId) : null;
  if (msg.channel === "iopub") {
    switch (type) {
      case "status": {
        setKernelState(content.execution_state, content.reason);
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
        }
        return;
      case "clear_output":
        if (!cell) return;
        activity(cell.id, parentId);
        if (content.wait) cell.pendingClear = true;
        else deferClear(cell);
        if (!content.wait && (!S.cascade || S.cascade.own)) outputsChanged();
        return;
      case "stream": {
        if (!cell) return;
        activity(cell.id, parentId);
        addOutput(cell, { output_type: "stream", name: content.name, text: content.text || "" });
        return;
      }
      case "display_data":
      case "execute_result": {
        if (!cell) return;
        activity(cell.id, parentId);
        const out = { output_type: type, data: content.data || {}, metadata: content.metadata || {} };
        if (type === "execute_result") {
          out.execution_count = content.execution_count;
          cell.execution_count = content.execution_count;
          updateCellChrome(cell);
        }
        const displayId = content.transient && content.transient.display_id;
        if (displayId) Object.defineProperty(out, "displayId", { value: displayId, enumerable: false, writable: true });
        addOutput(cell, out);
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
      case "error":
        if (!cell) return;
        activity(cell.id, parentId);
        addOutput(cell, { output_type: "error", ename: content.ename, evalue: content.evalue,
          traceback: content.traceback || [] });
        return;
      case "comm_msg":
        if (content.comm_id === S.commId) onKernelState(content.data);
        return;
      case "comm_close":
        if (content.comm_id === S.commId) { S.commId = null; S.stateComm = "none"; }
        return;
      default:
        return;
    }
  }
  if (msg.channel === "shell") {
    if (type === "execute_reply") onExecuteReply(msg, cell);
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
  const content = msg.content || {};
  const reactive = (msg.metadata && msg.metadata.reactive) || null;
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

// ---- the kernel's cell states ----------------------------------------------------------------------
/** Open this page's "reactive" comm: the kernel answers with a snapshot of every cell's
 * state and the graph, then sends each change (cellstate.js). */
function openStateComm() {
  if (!S.conn || !S.conn.open) return;
  closeStateComm();  // the kernel would go on sending to it
  S.commId = newId();
  S.stateComm = "opening";
  S.conn.send("shell", "comm_open", { comm_id: S.commId, target_name: COMM_TARGET, data: {} });
}

function closeStateComm() {
  if (S.commId && S.conn && S.conn.open) S.conn.send("shell", "comm_close", { comm_id: S.commId, data: {} });
  S.commId = null;
}

/** A reactive_graph_reply (registration, an undone deletion) carries the whole graph:
 * the same as the comm's graph message. */
function applyGraphReply(content) {
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
  for (const id of cellsThatRan(changed)) {
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
    if (cell) setMark(cell, (c ? id === c.trigger : requested) ? "trigger" : "reran");
  }
  for (const [id, { after }] of changed) {
    const cell = S.byId.get(id);
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
  // Cells the kernel still knows but did not mention keep their run counts.
  if (resync) S.interrupted = null;
  if (graph) {
    S.graph = state.graph;
    highlightRelations();
    drawGraphPanel();
  }
  if (missed.length) catchUp(missed);
  if (isSnapshot && S.reconcile) reconcile(new Set(state.cells.keys()));
  if (isSnapshot && S.onSnapshot) { const done = S.onSnapshot; S.onSnapshot = null; done(); }
}

// Back after a disconnection, the kernel's graph says which cells ran meanwhile.  Their
// outputs went to the tabs that were connected, and a tab saves its runs' outputs: if
// the file changed meanwhile, it is loaded (as the notice this page missed would have
// loaded it).  If it did not, the new outputs are nowhere, and each cell that ran says
// so instead of showing its old output as if it were current.
function catchUp(missed) {
  S.catchingUp = (async () => {
    const version = S.version;
    const runs = new Map(missed.map(({ id }) => [id, S.byId.get(id) && S.byId.get(id).runs]));
    let model = null;
    try { model = await api(nbUrl()); } catch { return; /* offline again */ }
    if (S.version !== version) return;  // reloaded or saved meanwhile: that is newer
    if (model.version !== version && !S.dirty) { loadModel(model, true); return; }
    if (model.version !== version) {
      onServerMessage("notebook_changed", { path: S.path, version: model.version, origin: null });
    }
    markMissed(missed.filter(({ id }) => {
      const cell = S.byId.get(id);
      return cell && cell.runs === runs.get(id) && !["queued", "running"].includes(cell.st.status);
    }));
  })();
  return S.catchingUp;
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

function onServerMessage(type, content) {
  if (type === "notebook_changed") {
    if (content.path !== S.path || content.origin === S.clientId || content.version === S.version) return;
    if (S.dirty) {
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
    S.path = content.new_path;
    showPath();
    const url = `/notebooks/${S.path.split("/").map(encodeURIComponent).join("/")}`;
    history.replaceState(null, "", url + location.hash);
    if (content.origin !== S.clientId) toast(`This notebook was renamed to ${S.path}.`, "info");
  } else if (type === "kernel_ready") {
    // A restart is over: the server registered the saved cells in the new kernel.
    if (!S.awaitingKernel) return;
    S.kernelVersion = content.registered ? content.version : null;
    kernelBack(S.awaitingKernel);
  } else if (type === "server_error") {
    toast(`Server: ${content.message}`, "error");
  }
}

function showPath() {
  $("nb-title").textContent = S.path;
  document.title = `${S.path.split("/").pop()} — Reactive notebook`;
}

// ---- inspection (Shift+Tab) -----------------------------------------------------------------------
async function inspect(cell, code, pos) {
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

// ---- kernel + connection state --------------------------------------------------------------------
/** ``reason``: the server's, on the statuses it sends itself (restarting, dead):
 * "died", "requested" (a restart asked for, here or by another client), "shutdown". */
function setKernelState(state, reason) {
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
    setBanner("error", "The kernel was shut down.", [["Start a new kernel", () => {
      setBanner("info", "Starting a new kernel…");
      checkKernelGone().then((replaced) => {
        if (!replaced) {
          setBanner("error", "Could not start a new kernel.", [["Try again", () => location.reload(), true]]);
        }
      });
    }, true]]);
  } else if (state === "dead") {
    setBanner("error", "The kernel is dead and could not be restarted.",
      [["Restart kernel", () => restartKernel(false), true]]);
  }
}

function onConnState(state, detail) {
  const node = $("conn-state");
  node.dataset.state = state;
  if (state === "disconnected") checkKernelGone();
  if (state === "connected") {
    // A reconnection: the comm's snapshot tells what ran meanwhile.  Replies
    // to this page's requests went to the old socket: none is pending any more, and a
    // cell that was running then has shown only part of its output.
    if (S.wasConnected && !S.newKernel) {
      S.resync = true;
      S.interrupted = new Set(S.cells.filter((c) => c.st.status === "running").map((c) => c.id));
      S.msgToCell.clear();
      S.cascade = null;
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
  if (state === "connected") {
    node.textContent = "Connected";
    node.title = "WebSocket connected to the kernel";
  } else if (state === "connecting") {
    node.textContent = "Connecting…";
  } else {
    node.textContent = `Offline · retry in ${Math.ceil(detail.retryIn / 1000)} s`;
    node.title = "Click to reconnect now";
  }
}

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

function updateSaveState(text) {
  const node = $("save-state");
  if (text) { node.textContent = text; return; }
  if (S.saving) node.textContent = "Saving…";
  else if (S.conflict) node.textContent = "Not saved (conflict)";
  else if (S.dirty) node.textContent = "Unsaved changes";
  else node.textContent = S.lastSaved ? `Saved ${S.lastSaved.toLocaleTimeString()}` : "Saved";
  node.dataset.state = S.conflict ? "conflict" : S.dirty ? "dirty" : "saved";
}

let autosaveTimer = null;
function scheduleAutosave() {
  clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(() => { if (S.dirty && !S.conflict) save(); }, 300);
}

async function save(opts = {}) {
  if (S.saving) { S.saveAgain = true; return; }
  S.saving = true;
  updateSaveState();
  const version = opts.force || S.version;
  const snapshot = toNotebook();
  const editedDuringSave = () => S.editCounter;
  const before = editedDuringSave();
  try {
    const model = await api(nbUrl(), { method: "PUT", body: JSON.stringify({ notebook: snapshot, version }) });
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

function loadModel(model, keepLive) {
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

async function reloadNotebook(discard) {
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

// ---- kernel controls ----------------------------------------------------------------------------
async function interruptKernel() {
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
  S.cascade = null;
  S.ks = emptyKernelState();  // a new kernel: nothing it said yet
  S.commId = null;
  S.deleted.clear();  // a new kernel never had the deleted cells
  for (const cell of S.cells) {
    cell.runs = 0;
    setMark(cell, null);
    setState(cell, "idle", { duration: null, error: null, skippedBecause: null, died: false });
  }
}

// After a restart (asked here, by another client, or a crash) the server registers the
// notebook's saved cells in the new kernel, once for all its tabs, and says so
// (kernel_ready).  The page then opens its comm; the snapshot says which cells the
// kernel has, and the page registers only what the file could not give: cells not
// saved yet, or edited since the last save (nothing runs).
let restartSeq = 0;

/** The new kernel answered: note its session, open the comm, reconcile. */
async function kernelBack(message) {
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
async function reconcile(kernelCells) {
  S.reconcile = false;
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

function onKernelRestarted(how) {
  restartSeq += 1;
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
  resetCellStates();
  if (victim) {
    const died = how === "died";
    addOutput(victim, { output_type: "error", ename: died ? "KernelDied" : "KernelRestarted",
      evalue: died ? "the kernel died while running this cell, and was restarted: variables are gone"
        : "the kernel was restarted by another tab or client while this cell ran: variables are gone",
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

async function restartKernel(runAllAfter) {
  // One restart at a time: overlapping restart requests make jupyter_client fail.
  if (!S.kernelId || S.userRestart) return;
  S.userRestart = true;
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

// ---- graph panel ----------------------------------------------------------------------------------
function drawGraphPanel() {
  if (!S.graphOpen) return;
  drawGraph(graphEl, {
    graph: S.graph,
    selected: S.active && S.active.id,
    known: (id) => S.byId.has(id) && S.byId.get(id).type === "code" && !!S.byId.get(id).source.trim(),
    label: (id) => firstLine(id),
    number: (id) => cellNumber(id),
    onSelect: (id) => {
      const cell = S.byId.get(id);
      if (cell) { selectCell(cell); cell.el.scrollIntoView({ block: "nearest", behavior: "smooth" }); }
    },
  });
}

function setGraphOpen(open) {
  S.graphOpen = open;
  localStorage.setItem("rk-graph-open", open ? "1" : "0");
  document.body.classList.toggle("rk-graph-open", open);
  $("graph-panel").hidden = !open;
  $("toggle-graph").setAttribute("aria-pressed", String(open));
  if (open) drawGraphPanel();
}

// ---- keyboard (command mode) ----------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === "s") {
    // An editor's own Mod-s saved already (and prevented the default).
    if (!e.defaultPrevented) { e.preventDefault(); save(); }
    return;
  }
  const target = e.target;
  if (!(target instanceof Element)) return;
  if (target.closest(".cm-editor, input, textarea, select, [contenteditable]")) return;
  const cellEl = target.closest(".rk-cell");
  if (!cellEl || target !== cellEl) return; // buttons and the graph keep their own keys
  const cell = S.byId.get(cellEl.dataset.cellId);
  if (!cell) return;
  const i = indexOf(cell);
  const key = e.key;
  if (e.repeat && "dDxXzZvV".includes(key)) { e.preventDefault(); return; }  // held down
  if (!"dDiI0".includes(key) || key === "") lastPress = { key: null, at: 0 };
  if (key === "Enter" && e.shiftKey) { e.preventDefault(); runAndMaybeAdvance(cell, true, false); }
  else if (key === "Enter" && mod) { e.preventDefault(); runCell(cell); }
  else if (key === "Enter" && e.altKey) { e.preventDefault(); runAndMaybeAdvance(cell, "insert", false); }
  else if (key === "Enter") { e.preventDefault(); editMode(cell); }
  else if (mod || e.altKey) return;
  else if (key === "a" || key === "A") { e.preventDefault(); insertCell(i, "code", false); }
  else if (key === "b" || key === "B") { e.preventDefault(); insertCell(i + 1, "code", false); }
  else if (key === "m" || key === "M") { e.preventDefault(); setType(cell, "markdown"); }
  else if (key === "y" || key === "Y") { e.preventDefault(); setType(cell, "code"); }
  else if (key === "c" || key === "C") { e.preventDefault(); copyCell(cell); }
  else if (key === "x" || key === "X") { e.preventDefault(); cutCell(cell); }
  else if (key === "v") { e.preventDefault(); pasteCell(i + 1); }
  else if (key === "V") { e.preventDefault(); pasteCell(i); }
  else if (key === "z" || key === "Z") { e.preventDefault(); undoDelete(); }
  else if (key === "o" || key === "O") { e.preventDefault(); toggleOutputs(cell); }
  else if (key === "h" || key === "H") { e.preventDefault(); showShortcuts(); }
  else if (key === "d" || key === "D") { e.preventDefault(); if (pressedTwice("d")) deleteCell(cell); }
  else if (key === "i" || key === "I") { e.preventDefault(); if (pressedTwice("i")) interruptKernel(); }
  else if (key === "0") { e.preventDefault(); if (pressedTwice("0")) confirmRestart(false); }
  else if (key === "ArrowDown" || key === "j") {
    e.preventDefault(); if (i < S.cells.length - 1) selectCell(S.cells[i + 1]);
  } else if (key === "ArrowUp" || key === "k") {
    e.preventDefault(); if (i > 0) selectCell(S.cells[i - 1]);
  }
});

/** D,D / I,I / 0,0: true on the second press of ``key`` within 800 ms. */
let lastPress = { key: null, at: 0 };
function pressedTwice(key) {
  const now = performance.now();
  const twice = lastPress.key === key && now - lastPress.at < 800;
  lastPress = twice ? { key: null, at: 0 } : { key, at: now };
  return twice;
}

function confirmRestart(runAllAfter) {
  const question = runAllAfter ? "Restart the kernel and run every cell in dependency order?"
    : "Restart the kernel? Variables and the graph are forgotten.";
  if (confirm(question)) restartKernel(runAllAfter);
}

function showShortcuts() {
  const dialog = $("shortcuts");
  if (!dialog.open) dialog.showModal();
}

window.addEventListener("beforeunload", (e) => {
  if (S.dirty) { e.preventDefault(); e.returnValue = ""; }
});
// A page that goes away closes its comm (a page shown again opens a new one).
window.addEventListener("pagehide", () => closeStateComm());
window.addEventListener("pageshow", (e) => { if (e.persisted) openStateComm(); });

// ---- toolbar ---------------------------------------------------------------------------------------------
function wireToolbar() {
  $("add-code").onclick = () => insertCell(S.active ? indexOf(S.active) + 1 : S.cells.length, "code", true);
  $("add-md").onclick = () => insertCell(S.active ? indexOf(S.active) + 1 : S.cells.length, "markdown", true);
  $("run-cell").onclick = () => S.active && runAndMaybeAdvance(S.active, true, false);
  $("run-all").onclick = () => runAll();
  $("run-stale").onclick = () => runStale();
  $("save").onclick = () => save();
  $("interrupt").onclick = () => interruptKernel();
  $("restart").onclick = () => confirmRestart(false);
  $("restart-run").onclick = () => confirmRestart(true);
  $("show-shortcuts").onclick = () => showShortcuts();
  const shortcuts = $("shortcuts");
  shortcuts.querySelector("[data-close]").onclick = () => shortcuts.close();
  shortcuts.addEventListener("click", (e) => { if (e.target === shortcuts) shortcuts.close(); });
  shortcuts.addEventListener("close", () => { if (S.active) S.active.el.focus(); });
  $("mode-switch").onclick = () => setMode(S.mode === "lazy" ? "auto" : "lazy");
  $("toggle-graph").onclick = () => setGraphOpen(!S.graphOpen);
  $("close-graph").onclick = () => setGraphOpen(false);
  $("conn-state").onclick = () => S.conn && !S.conn.open && S.conn.reconnectNow();
  showPath();
  $("home-link").href = "/";
}

// ---- start -------------------------------------------------------------------------------------------
async function start() {
  wireToolbar();
  setGraphOpen(S.graphOpen);
  try {
    const model = await api(nbUrl());
    loadModel(model, false);
    selectCell(S.cells[0], false);
  } catch (error) {
    setBanner("error", `Cannot open ${S.path}: ${error.message}`);
    return;
  }
  try {
    await openKernel();
  } catch (error) {
    setBanner("error", `Cannot start the kernel: ${error.message}`,
      [["Retry", () => location.reload(), true]]);
    return;
  }
  document.body.dataset.ready = "1";
}

/** The notebook's kernel (started, with the saved cells registered, if it had none)
 * and a connection to it. */
async function openKernel() {
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

// For tests and debugging.
window.rk = { S, save, runCell };

start();
