// JupyterLab 4 / Notebook 7 extension for the reactive kernel.  Active only for
// notebooks whose kernel is "reactive"; on any other kernel it does nothing.
//
// What it adds (the kernel does the work; this draws what the kernel publishes):
// - cell states from the kernel's "reactive" comm (queued, running, ok with its
//   duration, error, skipped naming the upstream cell, stale), as a badge per cell,
//   marked ↻ on the cells a cascade re-ran;
// - re-run outputs routed by their metadata.cellId when this page holds no request
//   of that cell (after a reload, or a run from another tab);
// - the notebook order sent to the kernel on open and on every structural change;
// - Run all / Restart and run all with reactiveCascade: false (each cell once);
// - Auto / Lazy and Run stale in the toolbar; a dependency graph side panel with
//   upstream and downstream highlight; refusals and cycles select the named cell.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { Dialog, ICommandPalette, showDialog, ToolbarButton } from "@jupyterlab/apputils";
import { Cell, CodeCell } from "@jupyterlab/cells";
import { INotebookTracker, NotebookPanel } from "@jupyterlab/notebook";
import { Kernel, KernelMessage } from "@jupyterlab/services";
import { Widget } from "@lumino/widgets";

const COMM_TARGET = "reactive";
const KERNEL_NAME = "reactive";
const OUTPUT_TYPES = new Set(["stream", "display_data", "execute_result", "error", "clear_output",
  "update_display_data", "execute_input"]);

const MISSED = {
  missed: "This cell ran after the notebook was last saved, while this page was not "
    + "connected: the output shown is older. Run it again to see its current output.",
  partial: "This cell was running when this page connected: the output it printed "
    + "before that did not reach the page.",
};

const EDITED = "Edited since it ran: the output, and a cascade's re-runs of this cell, are of "
  + "the code it ran. Run the cell to apply the edit.";

/** The views of each notebook document (File > New View): they share one model, so one of
 * them routes the kernel's messages into it. */
const VIEWS = new Map<object, Set<ReactiveNotebook>>();

interface CellState {
  status: string;
  duration_ms: number | null;
  error: string | null;
  skipped_because: string | null;
  execution_count: number | null;
  runs: number;
  /** The latest run was a cascade's re-run, not the cell's own request. */
  rerun?: boolean;
  label: string | null;
  output_at?: number | null;
  /** The CRC-32 of the code the kernel holds for the cell (what a cascade re-runs). */
  code_hash?: string | null;
}

interface GraphCell extends Partial<CellState> {
  defines?: string[];
  reads?: string[];
  parents?: Record<string, string[]>;
  children?: Record<string, string[]>;
}

type JSONObject = Record<string, any>;

function formatMs(ms: number | null): string {
  if (ms == null) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

let crcTable: Uint32Array | null = null;

/** The kernel's fingerprint of a cell's code (``code_hash`` in reactive_kernel/state.py):
 * the CRC-32 of its UTF-8 bytes, 8 hex digits. */
function codeHash(text: string): string {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

/** One notebook on the reactive kernel. */
class ReactiveNotebook {
  readonly states = new Map<string, CellState>();
  /** What the last cascade did to each cell it ran: requested it, or re-ran it. */
  readonly marks = new Map<string, "trigger" | "reran">();
  graph: Record<string, GraphCell> = {};
  mode = "auto";
  private comm: Kernel.IComm | null = null;
  private kernel: Kernel.IKernelConnection | null = null;
  private orderTimer = 0;
  private sentOrder = "";
  /** Code cells gone from the order and removed from the kernel's graph, by id: whether
   * they had run there. */
  private removed = new Map<string, boolean>();
  private cascade = false;
  private disposed = false;
  /** The kernel process's session (its messages' ``header.session``), and those of the
   * processes a restart replaced. */
  private kernelSession = "";
  private readonly goneSessions = new Set<string>();
  readonly buttons: Record<string, ToolbarButton> = {};

  constructor(readonly panel: NotebookPanel, private readonly onGraph: () => void) {
    const session = panel.sessionContext;
    session.kernelChanged.connect(() => this.connectKernel());
    session.statusChanged.connect((_, status) => {
      if (status === "restarting" || status === "autorestarting") {
        // The kernel going away may still send outputs (jupyter_client interrupts it
        // first): JupyterLab drops them, and so does this page.
        if (this.kernelSession) this.goneSessions.add(this.kernelSession);
        this.comm = null;
        this.sentOrder = "";
        this.forget();
      } else if (status === "idle" && this.kernel && !this.comm) {
        this.openComm();
      }
    });
    panel.content.model?.cells.changed.connect(() => this.orderSoon());
    panel.content.activeCellChanged.connect(() => this.highlight());
    const views = VIEWS.get(panel.context.model) ?? new Set<ReactiveNotebook>();
    views.add(this);
    VIEWS.set(panel.context.model, views);
    panel.disposed.connect(() => {
      this.disposed = true;
      window.clearTimeout(this.orderTimer);
      this.disconnect();
      views.delete(this);
      if (!views.size) VIEWS.delete(panel.context.model);
    });
    void session.ready.then(() => this.connectKernel());
  }

  get active(): boolean {
    return !!this.kernel;
  }

  private connectKernel(): void {
    this.disconnect();
    this.forget();
    const kernel = this.panel.sessionContext.session?.kernel ?? null;
    const on = !!kernel && kernel.name === KERNEL_NAME;
    this.panel.node.classList.toggle("rk-lab-reactive", on);
    for (const button of Object.values(this.buttons)) button.setHidden(!on);
    delete this.panel.node.dataset.rkState;
    if (!on || !kernel) { this.clearBadges(); this.onGraph(); return; }
    this.kernel = kernel;
    kernel.iopubMessage.connect(this.onIOPub, this);
    this.openComm();
  }

  /** What the page knew of a kernel that is gone (restarted, or another kernel chosen):
   * no badge may claim a result of it is current. */
  private forget(): void {
    this.states.clear();
    this.marks.clear();
    this.removed.clear();
    this.displays.clear();
    this.missed.clear();
    this.graph = {};
    this.renderAll();
    this.onGraph();
  }

  private disconnect(): void {
    if (this.kernel) this.kernel.iopubMessage.disconnect(this.onIOPub, this);
    if (this.comm && !this.comm.isDisposed) {
      try { this.comm.close(); } catch { /* the kernel is gone */ }
    }
    this.comm = null;
    this.kernel = null;
    this.sentOrder = "";
    this.started.clear();
    this.runningAtConnect.clear();
    this.checked = false;
  }

  private openComm(): void {
    if (!this.kernel || this.disposed) return;
    const comm = this.kernel.createComm(COMM_TARGET);
    comm.onMsg = (msg) => this.onState(msg.content.data as JSONObject);
    comm.onClose = () => { if (this.comm === comm) this.comm = null; };
    comm.open({});
    this.comm = comm;
    this.sendOrder(true);
  }

  // -- the notebook order -------------------------------------------------------------
  private codeCells(): Cell[] {
    return this.panel.content.widgets.filter((c) => c.model.type === "code");
  }

  private orderSoon(): void {
    this.index = null;
    window.clearTimeout(this.orderTimer);
    this.orderTimer = window.setTimeout(() => this.sendOrder(false), 50);
    this.renderAll();
  }

  // A code cell gone from the notebook (deleted, cut, made Markdown) leaves the kernel with
  // the order, at once: the cells that read it re-run with the definition above it, or
  // fail with NameError. (JupyterLab's own `deletedCells` would wait for the next run.)
  // A cell that comes back with its id (Z undoes the deletion, or a cut cell is pasted)
  // goes back into the kernel's graph where it now is, and runs again if it had run,
  // so the cells that read it stop showing the NameError its removal gave them.
  private sendOrder(force: boolean): void {
    if (this.disposed) return; // (a timer left by a notebook closed within 50 ms)
    const order = this.codeCells().map((c) => c.model.id);
    const present = new Set(order);
    // JupyterLab keeps a deleted cell's id in `deletedCells` for its next run, and keeps it
    // when the cell comes back (Z, or a cut cell pasted): that run would delete it again.
    const deleted = this.panel.content.model?.deletedCells;
    if (deleted) {
      for (let i = deleted.length - 1; i >= 0; i--) {
        if (present.has(deleted[i])) deleted.splice(i, 1);
      }
    }
    const key = order.join(" ");
    if (!this.kernel || (!force && key === this.sentOrder)) return;
    const remove = force ? [] : this.sentOrder.split(" ").filter((id) => id && !present.has(id));
    for (const id of remove) this.removed.set(id, (this.states.get(id)?.runs ?? 0) > 0);
    const back = order.filter((id) => this.removed.has(id));
    // A cell that arrives with code (pasted, or made by a merge or a split) goes into the
    // graph too, not run: the cells below it read it, as a top-to-bottom run would.
    const known = new Set(this.sentOrder.split(" "));
    const arrived = force ? [] : order.filter((id) => !known.has(id) && !this.removed.has(id)
      && !(id in this.graph) && (this.cellById(id)?.model.sharedModel.getSource() ?? "").trim());
    this.sentOrder = key;
    if (!back.length && !arrived.length) {
      void this.request(remove.length ? { order, remove } : { order });
      return;
    }
    // (One view of a notebook runs it: they share its cells.)
    const rerun = this.views()[0] === this ? back.filter((id) => this.removed.get(id)) : [];
    for (const id of back) this.removed.delete(id);
    const register = [...back, ...arrived].map((id) => ({
      cellId: id, code: this.cellById(id)?.model.sharedModel.getSource() ?? "" }));
    void this.request({ order, register, ...(remove.length ? { remove } : {}) }).then(() => {
      for (const id of rerun) {
        const cell = this.cellById(id);
        if (cell && cell.model.type === "code") {
          void CodeCell.execute(cell as CodeCell, this.panel.sessionContext,
            { deletedCells: [], recordTiming: false });
        }
      }
    });
  }

  /** A reactive_graph_request on the shell channel; its reply's graph is applied. */
  async request(content: JSONObject): Promise<JSONObject | null> {
    const kernel = this.kernel;
    if (!kernel) return null;
    const msg = KernelMessage.createMessage({
      channel: "shell", msgType: "reactive_graph_request" as any, session: kernel.clientId,
      username: kernel.username, content: content as any,
    } as any);
    try {
      const future = kernel.sendShellMessage(msg as any, true, true);
      let timer = 0;
      const timeout = new Promise<never>((_, reject) => {
        timer = window.setTimeout(() => reject(new Error("no reply in 60 s")), 60_000);
      });
      const reply = (await Promise.race([future.done, timeout])
        .finally(() => window.clearTimeout(timer))) as KernelMessage.IShellMessage;
      const body = reply.content as JSONObject;
      if (body && body.cells) this.onState({ ...body, type: "graph" });
      return body;
    } catch {
      return null;  // the kernel restarted or went away meanwhile
    }
  }

  // -- the kernel's cell states ---------------------------------------------------------
  onState(data: JSONObject): void {
    if (!data || typeof data !== "object") return;
    if (data.type === "snapshot") this.panel.node.dataset.rkState = "live";  // tests wait for it
    if (data.type === "snapshot" && !this.checked) {
      this.checked = true;
      const cells = data.cells as Record<string, GraphCell>;
      for (const [id, cell] of Object.entries(cells || {})) {
        if (cell.status === "running" && !this.started.has(id)) this.runningAtConnect.add(id);
      }
      void this.panel.context.ready.then(() => this.noteMissed(cells));
    }
    if (data.type === "snapshot" || data.type === "graph") {
      this.graph = (data.cells as Record<string, GraphCell>) || {};
      // A graph reply may come before the comm's changes of the cascade it ran (they
      // travel on another channel): the marks are the new cascade's, from it.
      const ranAgain = data.type === "graph" && Object.entries(this.graph).some(
        ([id, cell]) => (cell.runs ?? 0) > (this.states.get(id)?.runs ?? Infinity));
      if (ranAgain && !this.cascade) this.clearMarks();
      for (const [id, cell] of Object.entries(this.graph)) {
        if (cell.status === undefined) continue;
        if (data.type === "graph") this.noteRun(id, this.states.get(id), cell as CellState);
        this.states.set(id, cell as CellState);
      }
      if (data.mode) this.setMode(String(data.mode));
      this.renderAll();
      this.onGraph();
      return;
    }
    if (data.type === "mode") { this.setMode(String(data.mode)); return; }
    if (data.type !== "cells") return;
    const changed = data.cells as Record<string, CellState | null>;
    const busy = Object.values(changed).some((s) => s && (s.status === "queued" || s.status === "running"));
    if (busy && !this.cascade) {
      this.cascade = true;
      this.clearMarks();
    }
    for (const [id, after] of Object.entries(changed)) {
      const before = this.states.get(id);
      if (!after) { this.states.delete(id); continue; }
      this.states.set(id, after);
      if (this.graph[id]) Object.assign(this.graph[id], after);
      const cell = this.cellById(id);
      if (!cell) continue;
      if (after.status === "running" || after.status === "queued") this.missed.delete(id);
      this.noteRun(id, before, after);
      if (after.execution_count != null && cell.model.type === "code") {
        const code = cell as CodeCell;
        // (Not while its own request from this page is to run: JupyterLab shows [*] and
        // gives it its count; a count set now would show it idle, see onIOPub.)
        if (code.model.executionCount !== after.execution_count
            && code.model.executionState !== "running") code.model.executionCount = after.execution_count;
      }
      this.renderSoon(cell);
    }
    if (this.cascade && ![...this.states.values()].some((s) => s.status === "queued" || s.status === "running")) {
      this.cascade = false;
    }
    this.onGraph();
  }

  /** A new cascade: the last one's marks go. */
  private clearMarks(): void {
    for (const id of this.marks.keys()) { const cell = this.cellById(id); if (cell) this.renderSoon(cell); }
    this.marks.clear();
  }

  /** The ↻ mark: a cell that ran again since ``before`` was re-run by a cascade, or ran
   * on its own request (the kernel says which); a stale cell shows none. */
  private noteRun(id: string, before: CellState | undefined, after: CellState): void {
    if (after.status === "stale" || after.status === "idle") {
      this.marks.delete(id);
      return;
    }
    if (!before || !(after.runs > before.runs)) return;
    const reran = after.rerun ?? after.execution_count === before.execution_count;
    this.marks.set(id, reran ? "reran" : "trigger");
  }

  private setMode(mode: string): void {
    this.mode = mode;
    const button = this.buttons.mode;
    if (button) {
      button.node.dataset.mode = mode;
      const label = button.node.querySelector(".jp-ToolbarButtonComponent-label");
      if (label) label.textContent = mode === "lazy" ? "Lazy" : "Auto";
    }
  }

  /** Cell id -> (widget, index), rebuilt after structural changes (a cascade looks
   * cells up for every output and state message). */
  private index: Map<string, [Cell, number]> | null = null;

  private lookup(id: string): [Cell, number] | undefined {
    if (!this.index) {
      this.index = new Map();
      this.panel.content.widgets.forEach((cell, i) => this.index?.set(cell.model.id, [cell, i]));
    }
    const found = this.index.get(id);
    if (found && (found[0].isDisposed || this.panel.content.widgets[found[1]] !== found[0])) {
      this.index = null;  // stale: rebuild once
      return this.lookup(id);
    }
    return found;
  }

  cellById(id: string): Cell | undefined {
    return this.lookup(id)?.[0];
  }

  /** A cell as the notebook shows it: its prompt's execution count ("[4]"), as the
   * kernel's messages name cells, or its place among the cells ("#6") until it ran. */
  cellNumber(id: string): string {
    const found = this.lookup(id);
    if (!found) return "a deleted cell";
    const count = found[0].model.type === "code" ? (found[0] as CodeCell).model.executionCount : null;
    return count != null ? `[${count}]` : `#${found[1] + 1}`;
  }

  badgeText(state: CellState | undefined): string {
    if (!state) return "";
    switch (state.status) {
      case "ok": return state.duration_ms != null ? `ok · ${formatMs(state.duration_ms)}` : "ok";
      case "skipped":
        return state.skipped_because ? `skipped — upstream ${this.cellNumber(state.skipped_because)} failed`
          : state.error ? `skipped — ${state.error}` : "skipped";
      case "idle": return "";
      default: return state.status;
    }
  }

  private dirty = new Set<Cell>();
  private frame = 0;

  /** Badges change at the next frame, all at once (one style and layout pass for a
   * cascade's burst of state changes). */
  private renderSoon(cell: Cell): void {
    this.dirty.add(cell);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const cells = [...this.dirty];
      this.dirty.clear();
      for (const one of cells) if (!one.isDisposed) this.render(one);
    });
  }

  /** Whether the cell shows other code than the kernel holds for it, once it ran or shows
   * outputs: its outputs, and a cascade's re-runs of it, are of the kernel's code. */
  edited(cell: Cell, state: CellState | undefined): boolean {
    if (!state || !state.code_hash || cell.model.type !== "code") return false;
    if (!(state.runs > 0 || (cell as CodeCell).model.outputs.length > 0)) return false;
    return codeHash(cell.model.sharedModel.getSource()) !== state.code_hash;
  }

  /** Cell models whose changes (text, outputs) re-draw their badge. */
  private watched = new WeakSet<object>();

  private watch(cell: Cell): void {
    const model = cell.model;
    if (this.watched.has(model)) return;
    this.watched.add(model);
    model.contentChanged.connect(() => {
      const widget = this.disposed ? undefined : this.cellById(model.id);
      if (widget && this.active) this.renderSoon(widget);
    });
  }

  render(cell: Cell): void {
    if (cell.model.type !== "code") return;
    this.watch(cell);
    // In the input area's bottom-right corner (the top-right one is the cell toolbar's).
    const host = cell.inputArea?.node ?? cell.node;
    let badge = host.querySelector(":scope > .rk-lab-badge") as HTMLElement | null;
    const state = this.active ? this.states.get(cell.model.id) : undefined;
    const missed = this.active ? this.missed.get(cell.model.id) : undefined;
    cell.node.classList.toggle("rk-lab-missed", missed === "missed");
    const edited = this.edited(cell, state);
    cell.node.classList.toggle("rk-lab-edited", edited);
    const text = [this.badgeText(state), edited ? "edited" : ""].filter(Boolean).join(" · ")
      + (missed === "missed" ? " · output not received"
        : missed === "partial" ? " · output partly received" : "");
    if (!text) { badge?.remove(); return; }
    if (!badge) {
      badge = document.createElement("div");
      badge.className = "rk-lab-badge";
      badge.setAttribute("role", "status");
      host.appendChild(badge);
    }
    const mark = this.marks.get(cell.model.id);
    badge.textContent = text;  // (a re-run shows ↻ before it: style/index.css)
    badge.dataset.status = state ? state.status : "";
    if (mark) badge.dataset.mark = mark;
    else delete badge.dataset.mark;
    badge.setAttribute("aria-label", mark === "reran" ? `re-ran: ${text}` : text);
    badge.title = missed ? MISSED[missed] : edited ? EDITED : state && state.error ? state.error : "";
  }

  /** On the first snapshot of a kernel: the cells whose output the kernel replaced after
   * the file this page loaded was saved (a cascade while no page was connected, or
   * before this one was) show an older output here; they say so until they run again. */
  private noteMissed(cells: Record<string, GraphCell> | undefined): void {
    const modified = this.panel.context.contentsModel?.last_modified;
    const savedAt = modified ? Date.parse(modified) / 1000 : NaN;
    if (!cells || Number.isNaN(savedAt)) return;
    for (const [id, cell] of Object.entries(cells)) {
      const at = cell.output_at;
      // (The kernel's clock and the file's are the same machine's, in the usual case.)
      if (typeof at !== "number" || at <= savedAt + 0.1 || this.started.has(id)) continue;
      if (cell.status === "running" || cell.status === "queued") continue;  // outputs follow
      const widget = this.cellById(id);
      if (widget?.model.type === "code") { this.missed.set(id, "missed"); this.renderSoon(widget); }
    }
  }

  renderAll(): void {
    for (const cell of this.panel.content.widgets) this.render(cell);
    this.highlight();
  }

  private clearBadges(): void {
    for (const cell of this.panel.content.widgets) {
      cell.node.querySelector(".rk-lab-badge")?.remove();
      cell.node.classList.remove("rk-lab-upstream", "rk-lab-downstream");
    }
  }

  /** The active cell's upstream and downstream cells, transitively. */
  related(id: string): { up: Set<string>; down: Set<string> } {
    const walk = (start: string, key: "parents" | "children"): Set<string> => {
      const seen = new Set<string>();
      const stack = [start];
      while (stack.length) {
        const next = this.graph[stack.pop() as string];
        for (const other of Object.keys((next && next[key]) || {})) {
          if (!seen.has(other) && other !== start) { seen.add(other); stack.push(other); }
        }
      }
      return seen;
    };
    return { up: walk(id, "parents"), down: walk(id, "children") };
  }

  highlight(): void {
    const active = this.panel.content.activeCell;
    const { up, down } = active && this.active ? this.related(active.model.id)
      : { up: new Set<string>(), down: new Set<string>() };
    for (const cell of this.panel.content.widgets) {
      cell.node.classList.toggle("rk-lab-upstream", up.has(cell.model.id));
      cell.node.classList.toggle("rk-lab-downstream", down.has(cell.model.id));
    }
  }

  // -- outputs of re-runs this page did not ask for -----------------------------------------
  /** Outputs this page routed that carry a display id: display id -> [cell id, index]
   * (so an update_display_data of a re-run reaches them; JupyterLab's own map covers
   * only the requests it holds). */
  private displays = new Map<string, [string, number][]>();
  /** Cells whose current run's start (execute_input, clear_output) this connection saw. */
  private started = new Set<string>();
  /** Cells whose output here is not the kernel's: "missed" (it ran while this page was
   * not connected) or "partial" (it was running when the page connected). */
  private missed = new Map<string, "missed" | "partial">();
  /** Whether this kernel connection's first snapshot was checked for missed outputs. */
  private checked = false;
  /** Cells the first snapshot said were running, whose run's start this page missed. */
  private runningAtConnect = new Set<string>();

  private views(): ReactiveNotebook[] {
    return [...(VIEWS.get(this.panel.context.model) ?? [this])].filter((nb) => !nb.disposed);
  }

  /** Whether a view of this notebook holds request `parent` of cell `cellId` (JupyterLab
   * routes its messages itself). */
  private ownedByAView(cellId: string, parent: unknown): boolean {
    for (const nb of this.views()) {
      const cell = nb.cellById(cellId);
      const future = cell && cell.model.type === "code" ? (cell as CodeCell).outputArea.future : null;
      if (future && !future.isDisposed && future.msg.header.msg_id === parent) return true;
    }
    return false;
  }

  private forgetDisplays(cellId: string): void {
    for (const [id, places] of this.displays) {
      const left = places.filter(([cell]) => cell !== cellId);
      if (left.length) this.displays.set(id, left); else this.displays.delete(id);
    }
  }

  private onIOPub(_: Kernel.IKernelConnection, msg: KernelMessage.IIOPubMessage): void {
    const type = msg.header.msg_type;
    if (this.goneSessions.has(msg.header.session)) return;
    this.kernelSession = msg.header.session;
    if (type === "error") this.selectNamedCell(msg.content as JSONObject);
    if (!OUTPUT_TYPES.has(type)) return;
    // The views of one notebook share its model: the first one routes.
    if (this.views()[0] !== this) return;
    const cellId = (msg.metadata as JSONObject | undefined)?.cellId;
    if (typeof cellId !== "string") return;
    const cell = this.cellById(cellId);
    if (!cell || cell.model.type !== "code") return;
    const content = msg.content as JSONObject;
    const starts = type === "execute_input" || (type === "clear_output" && !content.wait);
    if (starts) { this.started.add(cellId); this.missed.delete(cellId); }
    // Its outputs go (whoever asked for the run): the places of displays in it too.
    if (starts || type === "clear_output") this.forgetDisplays(cellId);
    if (this.ownedByAView(cellId, (msg.parent_header as JSONObject).msg_id)) return;
    const code = cell as CodeCell;
    // A re-run of a cell whose own request is still to run (JupyterLab's Run All sends
    // every cell's request at once, and a cascade may reach one the kernel has not seen
    // yet): that run's output is the one to show; the re-run's would come before it.
    if (code.model.executionState === "running") return;
    const outputs = code.model.outputs;
    if (!starts && type !== "update_display_data" && type !== "clear_output" && !this.started.has(cellId)) {
      // The output of a run that began before this page connected (a reload during a
      // cascade): what the cell shows is the file's older output, not this run's start.
      // (Its state may already say ok: a cell's stdout reaches iopub after the state.)
      if (this.panel.node.dataset.rkState !== "live" || this.runningAtConnect.has(cellId)) {
        outputs.clear();
        this.forgetDisplays(cellId);
        this.started.add(cellId);
        this.missed.set(cellId, "partial");
        this.renderSoon(cell);
      }
    }
    const displayId = (content.transient as JSONObject | undefined)?.display_id;
    switch (type) {
      case "execute_input":
        // A run another client asked for (another tab, a console): its output starts here.
        outputs.clear();
        this.forgetDisplays(cellId);
        if (typeof content.execution_count === "number") code.model.executionCount = content.execution_count;
        return;
      case "clear_output":
        outputs.clear(!!content.wait);
        this.forgetDisplays(cellId);
        return;
      case "update_display_data":
        for (const [id, index] of typeof displayId === "string" ? this.displays.get(displayId) ?? [] : []) {
          const target = this.cellById(id);
          if (!target || target.model.type !== "code") continue;
          const targetOutputs = (target as CodeCell).model.outputs;
          if (index < targetOutputs.length) {
            targetOutputs.set(index, { output_type: "display_data", data: content.data,
              metadata: content.metadata } as any);
          }
        }
        return;
      default:
        outputs.add({ output_type: type, ...content } as any);
        if (typeof displayId === "string") {
          const places = this.displays.get(displayId) ?? [];
          places.push([cellId, outputs.length - 1]);
          this.displays.set(displayId, places);
        }
    }
  }

  /** A refusal or a cycle names cells as users see them (`In [5] \`x = 1\``): the
   * first one named that is not the failing cell is selected. */
  private selectNamedCell(content: JSONObject): void {
    const ename = String(content.ename || "");
    if (!/Cycle|Definition|Refused/i.test(ename)) return;
    const text = String(content.evalue || "");
    const active = this.panel.content.activeCell;
    for (const [id, cell] of Object.entries(this.graph)) {
      if (cell.label && text.includes(cell.label) && (!active || active.model.id !== id)) {
        const index = this.panel.content.widgets.findIndex((c) => c.model.id === id);
        if (index >= 0) this.panel.content.activeCellIndex = index;
        return;
      }
    }
  }

  // -- toolbar actions ---------------------------------------------------------------
  async toggleMode(): Promise<void> {
    await this.request({ mode: this.mode === "lazy" ? "auto" : "lazy" });
  }

  async runAll(): Promise<void> {
    const session = this.panel.sessionContext;
    const runs = this.codeCells().map(async (cell) => {
      try {
        await CodeCell.execute(cell as CodeCell, session, {
          deletedCells: [], recordTiming: false, reactiveCascade: false,
        });
      } catch { /* the cell shows its error */ }
      // A request the kernel aborted (a cell above failed: stop_on_error) has no count:
      // its prompt goes back from [*] to [ ], as JupyterLab's own Run All does.
      const model = (cell as CodeCell).model;
      if (!cell.isDisposed && model.executionCount == null) model.executionState = "idle";
    });
    await Promise.all(runs);
  }

  async restartAndRunAll(): Promise<void> {
    // As JupyterLab's own command: a restart loses every variable, so it asks first.
    const answer = await showDialog({
      title: "Restart Kernel?",
      body: "Restart the kernel and run every cell once, in order? All variables will be lost.",
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: "Restart" })],
    });
    if (!answer.button.accept) return;
    await this.panel.sessionContext.restartKernel();
    await this.panel.sessionContext.ready;
    await this.runAll();
  }
}

/** The dependency graph of the current notebook: each code cell, what it reads from
 * which cells and which cells read it; clicking a cell selects it in the notebook. */
class GraphPanel extends Widget {
  notebook: ReactiveNotebook | null = null;

  constructor() {
    super();
    this.id = "reactive-graph";
    this.addClass("rk-lab-graph-panel");  // (the toolbar button is .rk-lab-graph)
    this.title.label = "Reactive graph";
    this.title.caption = "Dependency graph of the reactive notebook";
  }

  private frame = 0;

  /** Redraw at the next frame, and only while the panel is shown (a cascade sends
   * many state messages; a hidden panel costs nothing). */
  update(): void {
    if (!this.isVisible || this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  protected onAfterShow(): void {
    this.update();
  }

  private draw(): void {
    const nb = this.notebook;
    const body = document.createElement("div");
    if (!nb || !nb.active) {
      body.className = "rk-lab-graph-empty";
      body.textContent = "The current notebook is not on the reactive kernel.";
      this.node.replaceChildren(body);
      return;
    }
    const list = document.createElement("ol");
    list.className = "rk-lab-graph-list";
    const activeId = nb.panel.content.activeCell?.model.id;
    const { up, down } = activeId ? nb.related(activeId) : { up: new Set<string>(), down: new Set<string>() };
    for (const cell of nb.panel.content.widgets) {
      if (cell.model.type !== "code") continue;
      const id = cell.model.id;
      const node = nb.graph[id];
      const item = document.createElement("li");
      item.dataset.cellId = id;
      item.className = "rk-lab-graph-cell";
      if (id === activeId) item.classList.add("rk-lab-graph-active");
      if (up.has(id)) item.classList.add("rk-lab-graph-upstream");
      if (down.has(id)) item.classList.add("rk-lab-graph-downstream");
      const title = document.createElement("div");
      title.className = "rk-lab-graph-title";
      title.textContent = `${nb.cellNumber(id)} ${(cell.model.sharedModel.getSource().split("\n")[0] || "").slice(0, 40)}`;
      item.appendChild(title);
      const edges = (map: Record<string, string[]> | undefined, word: string): void => {
        for (const [other, names] of Object.entries(map || {})) {
          const line = document.createElement("div");
          line.className = "rk-lab-graph-edge";
          line.textContent = `${word} ${nb.cellNumber(other)}: ${names.join(", ")}`;
          item.appendChild(line);
        }
      };
      edges(node && node.parents, "reads from");
      edges(node && node.children, "read by");
      const state = nb.badgeText(nb.states.get(id));
      if (state) {
        const line = document.createElement("div");
        line.className = "rk-lab-graph-state";
        line.textContent = state;
        item.appendChild(line);
      }
      item.onclick = () => {
        const index = nb.panel.content.widgets.indexOf(cell);
        if (index >= 0) nb.panel.content.activeCellIndex = index;
      };
      list.appendChild(item);
    }
    this.node.replaceChildren(list);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "reactive-kernel-lab:plugin",
  description: "Cell states, re-runs, notebook order and the dependency graph for the reactive kernel.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, palette: ICommandPalette | null) => {
    const notebooks = new WeakMap<NotebookPanel, ReactiveNotebook>();
    const graphPanel = new GraphPanel();
    const refreshGraph = (): void => {
      const panel = tracker.currentWidget;
      if (panel) graphPanel.notebook = notebooks.get(panel) ?? null;
      if (graphPanel.isAttached) graphPanel.update();
    };
    const current = (): ReactiveNotebook | null => {
      const panel = tracker.currentWidget;
      const nb = panel ? notebooks.get(panel) : undefined;
      return nb && nb.active ? nb : null;
    };

    // Commands on the current reactive notebook (disabled on any other).
    const onNotebook: [string, string, (nb: ReactiveNotebook) => unknown][] = [
      ["reactive:run-all", "Run All Cells (reactive: each once, no cascades)", (nb) => nb.runAll()],
      ["reactive:restart-run-all", "Restart Kernel and Run All Cells (reactive)",
        (nb) => nb.restartAndRunAll()],
      ["reactive:toggle-mode", "Switch the reactive kernel between Auto and Lazy",
        (nb) => nb.toggleMode()],
      ["reactive:run-stale", "Run Stale Cells", (nb) => nb.request({ run_stale: true })],
    ];
    for (const [id, label, run] of onNotebook) {
      app.commands.addCommand(id, {
        label,
        isEnabled: () => !!current(),
        execute: () => { const nb = current(); return nb ? run(nb) : undefined; },
      });
    }
    const showGraph = (nb: ReactiveNotebook | null): void => {
      if (!graphPanel.isAttached) app.shell.add(graphPanel, "right", { rank: 900 });
      app.shell.activateById(graphPanel.id);
      graphPanel.notebook = nb;
      graphPanel.update();
    };
    app.commands.addCommand("reactive:toggle-graph", {
      label: "Show the Reactive Dependency Graph",
      execute: () => showGraph(current()),
    });
    if (palette) {
      for (const [id] of onNotebook) palette.addItem({ command: id, category: "Reactive kernel" });
      palette.addItem({ command: "reactive:toggle-graph", category: "Reactive kernel" });
    }

    tracker.widgetAdded.connect((_, panel) => {
      const nb = new ReactiveNotebook(panel, () => {
        if (tracker.currentWidget === panel || graphPanel.notebook === nb) graphPanel.update();
      });
      notebooks.set(panel, nb);
      // The buttons act on their own notebook (the tracker's current one may not be
      // it yet when a page has just opened).
      const add = (name: string, label: string, tooltip: string, action: () => unknown): void => {
        const button = new ToolbarButton({
          className: `rk-lab-button rk-lab-${name}`, label, tooltip,
          onClick: () => { if (nb.active) void action(); },
        });
        button.addClass(`rk-lab-${name}-item`);  // the toolbar item (data-mode lives here)
        button.setHidden(!nb.active);
        nb.buttons[name] = button;
        panel.toolbar.insertAfter("cellType", `reactive-${name}`, button);
      };
      // insertAfter puts each right after cellType: added in reverse order.
      add("graph", "Graph", "Show the dependency graph", () => showGraph(nb));
      add("stale", "Run stale", "Run every cell marked stale: held back by lazy mode, or reached by a cascade before this kernel ran it", () => nb.request({ run_stale: true }));
      add("mode", "Auto", "Auto: dependent cells re-run. Lazy: they are marked stale", () => nb.toggleMode());
      add("runall", "Run all", "Run every cell once, in order, without cascades", () => nb.runAll());
    });
    tracker.currentChanged.connect(refreshGraph);
    tracker.activeCellChanged.connect(refreshGraph);
  },
};

export default plugin;
