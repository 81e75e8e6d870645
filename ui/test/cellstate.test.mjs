// The transition function and the badge of ui/src/cellstate.js (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  applyKernelMessage, badge, cellsThatRan, codeHash, emptyKernelState, formatMs, isEdited,
} from "../src/cellstate.js";

const state = (over = {}) => ({ status: "ok", duration_ms: 1.5, error: null, skipped_because: null,
  execution_count: 1, runs: 1, label: "In [1] `a = 1`", ...over });

const graphCell = (over = {}) => ({ defines: ["a"], reads: [], parents: {}, children: {},
  position: 0, label: "In [1] `a = 1`", anonymous: false, ...state(over) });

function snapshot(cells, mode = "auto") {
  return { type: "snapshot", mode, order: Object.keys(cells), notebook_order: Object.keys(cells), cells };
}

test("a snapshot replaces everything the page knew", () => {
  let s = applyKernelMessage(emptyKernelState(), snapshot({ a: graphCell(), b: graphCell() })).state;
  const r = applyKernelMessage(s, snapshot({ b: graphCell({ runs: 2 }) }, "lazy"));
  assert.deepEqual([...r.changed.keys()].sort(), ["a", "b"]);
  assert.equal(r.changed.get("a").after, null);
  assert.equal(r.changed.get("b").before.runs, 1);
  assert.equal(r.state.cells.get("b").runs, 2);
  assert.ok(!r.state.cells.has("a"));
  assert.equal(r.state.mode, "lazy");
  assert.ok(r.mode && r.graph);
  s = r.state;
  // The same snapshot again changes no cell.
  const again = applyKernelMessage(s, snapshot({ b: graphCell({ runs: 2 }) }, "lazy"));
  assert.equal(again.changed.size, 0);
  assert.ok(!again.mode);
});

test("cells messages change only what they name, and leave the old state alone", () => {
  const s0 = applyKernelMessage(emptyKernelState(), snapshot({ a: graphCell(), b: graphCell() })).state;
  const r = applyKernelMessage(s0, { type: "cells", cells: { b: state({ status: "running", runs: 2 }) } });
  assert.deepEqual([...r.changed.keys()], ["b"]);
  assert.equal(r.state.cells.get("b").status, "running");
  assert.equal(s0.cells.get("b").status, "ok", "the previous state is not modified");
  assert.equal(r.state.graph.cells.b.status, "running", "the graph's copy follows");
  assert.deepEqual(r.state.graph.cells.b.defines, ["a"], "and keeps its edges");
  assert.ok(!r.graph || r.state.graph !== s0.graph);
  const gone = applyKernelMessage(r.state, { type: "cells", cells: { a: null } });
  assert.equal(gone.changed.get("a").after, null);
  assert.ok(!("a" in gone.state.graph.cells));
});

test("a cell unknown before is reported with before = null", () => {
  const r = applyKernelMessage(emptyKernelState(), { type: "cells", cells: { z: state({ status: "queued", runs: 0 }) } });
  assert.equal(r.changed.get("z").before, null);
  assert.equal(r.state.cells.get("z").status, "queued");
  assert.equal(r.state.graph, null);
});

test("cellsThatRan lists the cells whose run count went up, in message order", () => {
  const s0 = applyKernelMessage(emptyKernelState(), snapshot({ a: graphCell(), b: graphCell(), c: graphCell() })).state;
  const r = applyKernelMessage(s0, { type: "cells", cells: {
    c: state({ runs: 2 }), a: state({ status: "queued" }), b: state({ runs: 2, status: "error", error: "E: x" }),
    d: state({ runs: 1 }),
  } });
  assert.deepEqual(cellsThatRan(r.changed), ["c", "b", "d"]);
});

test("mode messages and bad messages", () => {
  const s0 = emptyKernelState();
  const lazy = applyKernelMessage(s0, { type: "mode", mode: "lazy" });
  assert.ok(lazy.mode);
  assert.equal(lazy.state.mode, "lazy");
  for (const bad of [null, 3, "x", {}, { type: "mode", mode: "sometimes" }, { type: "cells" },
    { type: "unknown", cells: { a: state() } }]) {
    const r = applyKernelMessage(lazy.state, bad);
    assert.equal(r.state, lazy.state);
    assert.equal(r.changed.size, 0);
  }
});

test("a graph message updates the graph and the states it carries", () => {
  const s0 = applyKernelMessage(emptyKernelState(), snapshot({ a: graphCell() })).state;
  const r = applyKernelMessage(s0, { type: "graph", mode: "auto", order: ["a", "b"], notebook_order: ["a", "b"],
    cells: { a: graphCell(), b: graphCell({ defines: ["b"], reads: ["a"], runs: 1 }) } });
  assert.ok(r.graph && !r.mode);
  assert.deepEqual([...r.changed.keys()], ["b"]);
  assert.deepEqual(r.state.graph.order, ["a", "b"]);
});

test("the badge says what the kernel said", () => {
  const names = { number: (id) => ({ up: "#2" })[id] || "?", firstLine: (id) => ({ up: "x = 1/0" })[id] || "" };
  assert.deepEqual(badge({ status: "idle" }, names), { status: "idle", text: "", title: "" });
  assert.equal(badge({ status: "ok", durationMs: 12.4 }, names).text, "ok · 12 ms");
  assert.equal(badge({ status: "ok", durationMs: null }, names).text, "ok");
  assert.equal(badge({ status: "running", runningMs: 1500 }, names).text, "running 1.50 s");
  const skipped = badge({ status: "skipped", skippedBecause: "up" }, names);
  assert.equal(skipped.text, "skipped — upstream #2 failed");
  assert.equal(skipped.title, "Not run because cell #2 (x = 1/0) failed");
  assert.equal(badge({ status: "skipped", error: "the cascade was interrupted" }, names).text,
    "skipped — the cascade was interrupted");
  assert.equal(badge({ status: "error", error: "ZeroDivisionError: division by zero" }, names).title,
    "ZeroDivisionError: division by zero");
  assert.equal(badge({ status: "weird" }, names).status, "idle");
});

test("durations for people", () => {
  assert.equal(formatMs(null), "");
  assert.equal(formatMs(0.2), "<1 ms");
  assert.equal(formatMs(999.4), "999 ms");
  assert.equal(formatMs(12345), "12.3 s");
  assert.equal(formatMs(125000), "2 m 5 s");
});

test("a run says whether it was a cascade's re-run, as the kernel publishes it", () => {
  const s0 = applyKernelMessage(emptyKernelState(), snapshot({ a: graphCell() })).state;
  assert.equal(s0.cells.get("a").rerun, null, "an older kernel does not say");
  const own = applyKernelMessage(s0, { type: "cells", cells: { a: state({ status: "running", runs: 2, rerun: false }) } });
  assert.equal(own.state.cells.get("a").rerun, false);
  const again = applyKernelMessage(own.state, { type: "cells", cells: { a: state({ status: "running", runs: 3, rerun: true }) } });
  assert.equal(again.changed.get("a").after.rerun, true);
  assert.deepEqual(cellsThatRan(again.changed), ["a"]);
});

test("codeHash is the kernel's CRC-32 of the UTF-8 text; isEdited compares with it", () => {
  // zlib.crc32 values (Python): b"hello", b"", "é = 1  # ✓".encode()
  assert.equal(codeHash("hello"), "3610a686");
  assert.equal(codeHash(""), "00000000");
  assert.equal(codeHash("a = '\ud800'"), codeHash("a = '\ufffd'"), "a lone surrogate as U+FFFD");
  assert.equal(codeHash("é = 1  # ✓"), "6ad78200");
  const s0 = applyKernelMessage(emptyKernelState(), snapshot({ a: graphCell({ code_hash: codeHash("a = 1") }) })).state;
  const rec = s0.cells.get("a");
  assert.equal(rec.codeHash, codeHash("a = 1"));
  assert.ok(!isEdited(rec, "a = 1", true));
  assert.ok(isEdited(rec, "a = 2", false), "it ran: other text is an edit");
  assert.ok(!isEdited({ ...rec, runs: 0 }, "a = 2", false), "never ran, no outputs: nothing is stale");
  assert.ok(isEdited({ ...rec, runs: 0 }, "a = 2", true), "outputs from the file are of the kernel's code");
  assert.ok(!isEdited(undefined, "a = 2", true), "a cell the kernel does not know");
  assert.ok(!isEdited({ ...rec, codeHash: null }, "a = 2", true), "a kernel that does not say");
  // A new hash is a change of the cell's record.
  const r = applyKernelMessage(s0, { type: "cells", cells: { a: state({ code_hash: codeHash("a = 2") }) } });
  assert.deepEqual([...r.changed.keys()], ["a"]);
});
