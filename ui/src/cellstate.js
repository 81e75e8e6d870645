// Each cell's run state as the kernel publishes it on the "reactive" comm
// (reactive_kernel/statecomm.py), and how a cell's badge reads it.  Pure: no DOM, no
// page state, no clock; notebook.js applies what a message changed.  Unit tests:
// ui/test/cellstate.test.mjs (node --test).

export const COMM_TARGET = "reactive";

/** The page's copy of what the kernel said: its mode, its graph (the fields of
 * `reactive_graph_reply`) and every registered cell's state. */
export function emptyKernelState() {
  return { mode: null, graph: null, cells: new Map() };
}

/** A cell state as the kernel sends it (in a "cells" message, or inside a graph's
 * cells) -> the page's record. */
export function cellRecord(data) {
  return {
    status: typeof data.status === "string" ? data.status : "idle",
    durationMs: typeof data.duration_ms === "number" ? data.duration_ms : null,
    error: data.error || null,
    skippedBecause: data.skipped_because || null,
    executionCount: typeof data.execution_count === "number" ? data.execution_count : null,
    runs: typeof data.runs === "number" ? data.runs : 0,
    // The latest run was a cascade's re-run, not the cell's own request (null: the
    // kernel did not say).
    rerun: typeof data.rerun === "boolean" ? data.rerun : null,
    // codeHash(code) of the code the kernel holds for the cell, the one a cascade would
    // re-run (null: the kernel did not say).
    codeHash: typeof data.code_hash === "string" ? data.code_hash : null,
  };
}

function sameRecord(a, b) {
  if (!a || !b) return a === b;
  return a.status === b.status && a.durationMs === b.durationMs && a.error === b.error
    && a.skippedBecause === b.skippedBecause && a.executionCount === b.executionCount
    && a.runs === b.runs && a.rerun === b.rerun && a.codeHash === b.codeHash;
}

let crcTable = null;

/** The kernel's fingerprint of a cell's code (reactive_kernel/state.py `code_hash`): the
 * CRC-32 of its UTF-8 bytes, as 8 hex digits. */
export function codeHash(text) {
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

/** Whether the page shows other code than the kernel holds for a cell (`record`, the
 * page's copy of its state): its outputs, and a cascade's re-runs of it, are of the
 * kernel's code.  A cell the kernel does not know, or that never ran nor shows outputs,
 * is not edited. */
export function isEdited(record, source, hasOutputs) {
  if (!record || !record.codeHash || !(record.runs > 0 || hasOutputs)) return false;
  return codeHash(source) !== record.codeHash;
}

/**
 * The transition function: one comm message applied to `state` (which is left as it
 * is).  Returns `{state, changed, graph, mode}`: `changed` maps each cell whose state
 * changed to `{before, after}` (`after` null: the cell left the graph, `before` null:
 * it was not known); `graph` and `mode` say whether those changed.  A message of an
 * unknown type, or not an object, changes nothing.
 *
 * - `snapshot` (on opening the comm): the whole graph and every cell's state; cells
 *   not in it are gone.
 * - `cells`: `{id: state | null}` for the cells that changed.
 * - `graph`: the whole graph after a request changed it (its cells carry their state).
 * - `mode`: `"auto"` or `"lazy"`.
 */
export function applyKernelMessage(state, data) {
  const unchanged = { state, changed: new Map(), graph: false, mode: false };
  if (!data || typeof data !== "object") return unchanged;
  const cells = new Map(state.cells);
  const changed = new Map();
  const put = (id, after) => {
    const before = cells.get(id) || null;
    if (sameRecord(before, after)) return;
    if (after) cells.set(id, after); else cells.delete(id);
    changed.set(id, { before, after });
  };
  let graph = state.graph;
  let mode = state.mode;
  switch (data.type) {
    case "snapshot":
    case "graph": {
      const given = data.cells && typeof data.cells === "object" ? data.cells : {};
      graph = { mode: data.mode, order: data.order || [], notebook_order: data.notebook_order || [],
        cells: given };
      if (typeof data.mode === "string") mode = data.mode;
      for (const [id, cell] of Object.entries(given)) put(id, cellRecord(cell || {}));
      if (data.type === "snapshot") {
        for (const id of state.cells.keys()) if (!(id in given)) put(id, null);
      }
      break;
    }
    case "cells": {
      if (!data.cells || typeof data.cells !== "object") return unchanged;
      for (const [id, cell] of Object.entries(data.cells)) put(id, cell ? cellRecord(cell) : null);
      if (graph) {
        // The graph's own copy of a cell's state follows; a cell that left the graph
        // leaves it (its edges go with the next graph message).
        const graphCells = { ...graph.cells };
        for (const [id, cell] of Object.entries(data.cells)) {
          if (cell === null) delete graphCells[id];
          else if (graphCells[id]) graphCells[id] = { ...graphCells[id], ...cell };
        }
        graph = { ...graph, cells: graphCells };
      }
      break;
    }
    case "mode":
      if (data.mode !== "auto" && data.mode !== "lazy") return unchanged;
      mode = data.mode;
      break;
    default:
      return unchanged;
  }
  return {
    state: { mode, graph, cells },
    changed,
    graph: graph !== state.graph,
    mode: mode !== state.mode,
  };
}

/** Cells that ran (their run count went up) in a set of changes: in the kernel's
 * order of the message. */
export function cellsThatRan(changed) {
  const ran = [];
  for (const [id, { before, after }] of changed) {
    if (after && after.runs > (before ? before.runs : 0)) ran.push(id);
  }
  return ran;
}

const LABELS = {
  idle: "", queued: "queued", running: "running", ok: "ok", error: "error",
  skipped: "skipped", stale: "stale", interrupted: "interrupted",
};
export const STATUSES = Object.keys(LABELS);

/** A duration for people: "<1 ms", "12 ms", "1.25 s", "2 m 5 s". */
export function formatMs(ms) {
  if (ms == null) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} m ${Math.round((ms % 60000) / 1000)} s`;
}

/**
 * What a cell's badge says: `{status, text, title}`.  `st` is the page's state of the
 * cell (`status`, `durationMs`, `error`, `skippedBecause`, `runningMs`: how long it has
 * been running); `names.number(id)` and `names.firstLine(id)` name another cell as
 * the page shows it.
 */
export function badge(st, names) {
  const status = st.status in LABELS ? st.status : "idle";
  let text = LABELS[status];
  let title = "";
  if (status === "running" && st.runningMs != null) text = `running ${formatMs(st.runningMs)}`;
  if (status === "ok" && st.durationMs != null) text = `ok · ${formatMs(st.durationMs)}`;
  if ((status === "error" || status === "interrupted") && st.error) title = st.error;
  if (status === "skipped") {
    if (st.skippedBecause) {
      text = `skipped — upstream ${names.number(st.skippedBecause)} failed`;
      title = `Not run because cell ${names.number(st.skippedBecause)} (${names.firstLine(st.skippedBecause)}) failed`;
    } else {
      text = `skipped — ${st.error || "not run"}`;
    }
  }
  return { status, text, title };
}
