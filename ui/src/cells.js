// Drawing the cells: their DOM, outputs, run-state badges (batched per frame), the
// notebook order sent to the kernel, the graph panel.
import { STATUSES, badge, isEdited } from "./cellstate.js";
import { cellLanguage, createEditor } from "./editor.js";
import { clearOutputs, commandMode, deleteCell, editMarkdown, editMode, insertCell, markDirty, moveCell, selectCell, setType, toggleOutputs } from "./edits.js";
import { drawGraph } from "./graph.js";
import { newId } from "./kernel.js";
import { inspect } from "./messages.js";
import { el, plainStreamText, renderMarkdown, renderOutput } from "./render.js";
import { runAndMaybeAdvance, runCell } from "./run.js";
import { save } from "./saving.js";
import { $, S, cellsEl, graphEl } from "./store.js";

// ---- cells -------------------------------------------------------------------------------
export const joinSrc = (s) => (Array.isArray(s) ? s.join("") : s || "");

export function makeCell(raw) {
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
  cell.editedEl = el("span", { class: "rk-edited-note", text: "edited", hidden: true,
    title: "Edited since it ran: its output, and its re-runs in a cascade, come from the code it last ran. Run it to use this code." });
  cell.staleBtn = el("button", { type: "button", class: "rk-btn rk-btn-small", text: "Run stale",
    "aria-label": "Run this stale cell and its stale ancestors", hidden: true,
    onclick: (e) => { e.stopPropagation(); runCell(cell); } });
  const tools = el("div", { class: "rk-cell-tools" },
    iconButton("Run cell", "▶", () => runCell(cell)),
    iconButton("Move cell up", "↑", () => moveCell(cell, -1)),
    iconButton("Move cell down", "↓", () => moveCell(cell, 1)),
    cell.typeBtn = iconButton("Change cell type", "M", () => setType(cell, cell.type === "code" ? "markdown" : "code")),
    iconButton("Clear outputs", "⌫", () => { if (clearOutputs(cell)) markDirty(); }),
    iconButton("Insert cell below", "+", () => insertCell(indexOf(cell) + 1, "code", true)),
    iconButton("Delete cell", "✕", () => deleteCell(cell), { class: "rk-icon-btn rk-danger" }));
  cell.editorEl = el("div", { class: "rk-editor" });
  cell.mdEl = el("div", { class: "rk-md-view rk-markdown", title: "Double-click to edit",
    ondblclick: () => editMarkdown(cell, true) });
  cell.outEl = el("div", { class: "rk-outputs", "aria-live": "polite" });
  cell.el = el("section", { class: "rk-cell", tabindex: "0", "data-cell-id": cell.id },
    el("div", { class: "rk-gutter" }, cell.promptEl),
    el("div", { class: "rk-cell-main" },
      el("div", { class: "rk-cell-head" }, cell.badgeEl, cell.staleBtn, cell.editedEl, cell.langEl, tools),
      el("div", { class: "rk-input" }, cell.editorEl, cell.mdEl),
      cell.outEl));
  cell.el.addEventListener("focusin", () => selectCell(cell, false));
  cell.el.addEventListener("mousedown", () => selectCell(cell, false));
  cell.editor = createEditor(cell.editorEl, cell.source, cell.type, {
    onChange(text) {
      cell.source = text;
      markDirty();
      updateCellChrome(cell);
      markEdited(cell);
    },
    onRun(advance) { runAndMaybeAdvance(cell, advance, true); },
    onEscape() { commandMode(cell); },
    onLeave(direction) {
      const next = S.cells[indexOf(cell) + direction];
      if (!next) return false;
      if (next.type === "code") {
        editMode(next);
        next.editor.caretAt(direction < 0);
      } else {
        commandMode(next);
      }
      return true;
    },
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

export function indexOf(cell) { return S.cells.indexOf(cell); }
/** A cell as the page shows it: its prompt's execution count ("[4]"), or its place
 * among the cells ("#6") until it has one. */
function cellNumber(id) {
  const cell = S.byId.get(id);
  if (cell && cell.execution_count != null) return `[${cell.execution_count}]`;
  const i = S.cells.indexOf(cell);
  return i < 0 ? "?" : `#${i + 1}`;
}
function firstLine(id) {
  const cell = S.byId.get(id);
  if (!cell) return id;
  const line = cell.source.split("\n").find((l) => l.trim()) || "(empty)";
  return line.trim();
}

// Text and attributes are written only when they change: every write invalidates the
// page's layout, and this runs for the trigger cell while its cascade streams in.
export function putText(node, text) { if (node.textContent !== text) node.textContent = text; }
export function putAttr(node, name, value) { if (node.getAttribute(name) !== value) node.setAttribute(name, value); }

export function updateCellChrome(cell) {
  cell.el.classList.toggle("rk-markdown-cell", cell.type === "markdown");
  cell.el.classList.toggle("rk-code-cell", cell.type === "code");
  const lang = cellLanguage(cell.type, cell.source);
  putText(cell.langEl, { sql: "SQL", markdown: "Markdown", raw: "Raw" }[lang] || "Python");
  putAttr(cell.langEl, "data-lang", lang);
  putText(cell.typeBtn, cell.type === "code" ? "M" : "Py");
  const typeLabel = cell.type === "code" ? "Change to Markdown cell" : "Change to code cell";
  putAttr(cell.typeBtn, "aria-label", typeLabel);
  putAttr(cell.typeBtn, "title", typeLabel);
  const showMd = cell.type === "markdown" && !cell.editingMd;
  cell.mdEl.hidden = !showMd;
  cell.editorEl.hidden = showMd;
  if (showMd) {
    cell.mdEl.innerHTML = cell.source.trim() ? renderMarkdown(cell.source, cell.attachments)
      : '<p class="rk-muted">Empty Markdown cell — double-click to edit.</p>';
  }
  putText(cell.promptEl, cell.type === "code" ? `[${cell.execution_count ?? " "}]` : "");
  putAttr(cell.el, "aria-label", `Cell ${indexOf(cell) + 1}, ${cell.langEl.textContent}`);
}

/** A code cell whose text is not the code the kernel holds for it (its state's
 * code_hash), once it has run or shows outputs: the outputs (and a cascade's re-runs
 * of it) are from the kernel's code.  Called when the text or the kernel's state of the
 * cell changes. */
export function markEdited(cell) {
  const edited = cell.type === "code"
    && isEdited(S.ks.cells.get(cell.id), cell.source, cell.outputs.length > 0);
  if (cell.editedEl.hidden === !edited) return;
  cell.editedEl.hidden = !edited;
  cell.el.classList.toggle("rk-edited", edited);
}

export const outputsHidden = (cell) => !!(cell.metadata.jupyter && cell.metadata.jupyter.outputs_hidden);

export function renderOutputs(cell) {
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
// A short cascade draws once, at its end: no draw until a frame from now.
export function deferDraws() { lastDraw = Math.max(lastDraw, performance.now()); }

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
export function drawSoon() {
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

export function queueRender(cell) {
  if (cell.renderQueued) return;
  cell.renderQueued = true;
  queueDraw(cell);
}

const badgeNames = { number: (id) => cellNumber(id), firstLine: (id) => firstLine(id) };

export function renderState(cell) {
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
  const mark = status === "skipped" ? null : cell.mark || null;  // a skipped cell did not run
  if (shown.mark !== mark) {
    cell.el.classList.toggle("rk-trigger", mark === "trigger");
    cell.el.classList.toggle("rk-reran", mark === "reran");
  }
  cell.shownState = { status, text, title, mark };
}

/** Mark a cell as the trigger of the last cascade, one it re-ran, or neither (null);
 * drawn with its state. */
export function setMark(cell, mark) {
  if ((cell.mark || null) === mark) return;
  cell.mark = mark;
  if (cell.stateQueued) return;
  cell.stateQueued = true;
  queueDraw(cell);
}

/** Set a cell's run state; the badge and classes follow in the next frame. */
export function setState(cell, status, extra = {}) {
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

export function mountCells() {
  cellsEl.replaceChildren(...S.cells.map((c) => c.el));
  S.byId = new Map(S.cells.map((c) => [c.id, c]));
  renumber();
  sendOrder();
}

// The kernel binds a cell's reads to the nearest cell above that defines the name, so it
// needs the notebook's order: on open, and after every insert, move, delete and paste.
export function previousCodeId(cell) {
  let previous = null;
  for (const c of S.cells) {
    if (c === cell) return previous;
    if (c.type === "code") previous = c.id;
  }
  return previous;
}

/** Code cell ids in notebook order, deleted cells the kernel still has kept in place. */
export function notebookOrder() {
  const order = S.cells.filter((c) => c.type === "code").map((c) => c.id);
  const kept = [...S.deleted, ...[...S.merged].map(([id, [, after]]) => [id, after])];
  for (const [id, after] of kept) {
    if (order.includes(id)) continue;
    const at = after === null ? -1 : order.indexOf(after);
    order.splice(at + 1, 0, id);
  }
  return order;
}

// A deleted code cell (deleted, cut, made Markdown) is removed from the kernel with the
// order at once: the cells that read its names re-run with the definition above it (or
// fail with NameError), as running the notebook from the top would show. Offline, the
// removal waits for the next execute_request (`deletedCells`).
let orderQueued = false;
export function sendOrder() {
  if (orderQueued) return;
  orderQueued = true;
  queueMicrotask(() => {
    orderQueued = false;
    sendOrderNow();
  });
}

/** The order now, if it changed (before an execute_request that needs it). */
export function sendOrderNow() {
  if (!S.conn || !S.conn.open) return;
  const remove = [...S.deleted.keys()];
  S.deleted.clear();
  const order = notebookOrder();
  const key = order.join(" ");
  if (key === S.sentOrder && !remove.length) return;
  // A cell that arrives with code (pasted, duplicated) goes into the graph too, not run:
  // the cells below that read its names go stale, as top to bottom they would read it.
  const known = new Set(S.sentOrder ? S.sentOrder.split(" ") : order);
  const register = order.filter((id) => !known.has(id) && !(S.graph && S.graph.cells && S.graph.cells[id]))
    .map((id) => S.byId.get(id))
    .filter((c) => c && c.type === "code" && c.source.trim())
    .map((c) => ({ cellId: c.id, code: c.source }));
  S.sentOrder = key;
  const content = { order, ...(remove.length ? { remove } : {}), ...(register.length ? { register } : {}) };
  S.conn.send("shell", "reactive_graph_request", content);
}

// ---- graph panel ----------------------------------------------------------------------------------
export function drawGraphPanel() {
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
  // A newly selected cell's node in sight (a wide graph scrolls in its panel).
  const node = graphEl.querySelector(".rk-node-selected");
  if (node && graphShown !== node.dataset.cell) node.scrollIntoView({ block: "nearest", inline: "nearest" });
  graphShown = node ? node.dataset.cell : null;
}
let graphShown = null;

export function setGraphOpen(open) {
  S.graphOpen = open;
  localStorage.setItem("rk-graph-open", open ? "1" : "0");
  document.body.classList.toggle("rk-graph-open", open);
  $("graph-panel").hidden = !open;
  $("toggle-graph").setAttribute("aria-pressed", String(open));
  if (open) drawGraphPanel();
}
