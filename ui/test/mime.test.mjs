// Output decisions (ui/src/mime.js): MIME preference, image size, stream tail, errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorView, imageOptions, preferredMime, tailOf } from "../src/mime.js";

const plain = { "text/plain": "<IPython.core.display.Latex object>" };

test("JupyterLab's MIME ranks: rich types before text/plain", () => {
  assert.equal(preferredMime({ ...plain, "text/latex": "$x$" }), "text/latex");
  assert.equal(preferredMime({ ...plain, "application/json": { a: 1 } }), "application/json");
  assert.equal(preferredMime({ ...plain, "text/markdown": "*x*" }), "text/markdown");
  assert.equal(preferredMime({ ...plain, "image/png": "AA==", "text/html": "<b>" }), "text/html");
  assert.equal(preferredMime({ ...plain, "image/png": "AA==", "image/svg+xml": "<svg/>" }), "image/svg+xml");
  assert.equal(preferredMime({ ...plain, "image/jpeg": "AA==" }), "image/jpeg");
  assert.equal(preferredMime({ "text/latex": "$x$", "text/markdown": "x" }), "text/markdown");
  assert.equal(preferredMime(plain), "text/plain");
  assert.equal(preferredMime({ "application/x-unknown": 1 }), null);
  assert.equal(preferredMime({}), null);
});

test("image metadata: width, height, unconfined", () => {
  assert.deepEqual(imageOptions({ "image/png": { width: 60 } }, "image/png"),
    { width: 60, height: undefined, unconfined: false });
  assert.deepEqual(imageOptions({ "image/png": { width: "40", height: 30, unconfined: true } }, "image/png"),
    { width: 40, height: 30, unconfined: true });
  assert.deepEqual(imageOptions({ "image/jpeg": { width: 60 } }, "image/png"),
    { width: undefined, height: undefined, unconfined: false });
  assert.deepEqual(imageOptions(undefined, "image/png"), { width: undefined, height: undefined, unconfined: false });
});

const lines = (from, to) => Array.from({ length: to - from }, (_, i) => `epoch ${from + i}\n`).join("");

test("a long stream keeps its end, not its start", () => {
  const { hidden, tail, hiddenLines } = tailOf(lines(0, 400), 200, 20000);
  assert.equal(hidden, lines(0, 200));
  assert.equal(tail, lines(200, 400));
  assert.equal(hiddenLines, 200);
  // Without a final newline, the last (partial) line is one of the 200 shown.
  const open = tailOf(lines(0, 400).trimEnd(), 200, 20000);
  assert.ok(open.tail.startsWith("epoch 200\n") && open.tail.endsWith("epoch 399"));
});

test("short text is not folded; the character limit keeps whole lines", () => {
  assert.equal(tailOf(lines(0, 200), 200, 20000).hidden, "");
  assert.equal(tailOf("", 200, 20000).hidden, "");
  const long = lines(0, 150).replace(/\n/g, `${"x".repeat(200)}\n`);
  const { hidden, tail } = tailOf(long, 200, 20000);
  assert.ok(tail.length <= 20000 && tail.startsWith("epoch ") && hidden.endsWith("\n"));
  assert.equal(hidden + tail, long);
  const oneLine = "y".repeat(50000);
  const cut = tailOf(oneLine, 200, 20000);
  assert.equal(cut.tail.length, 20000);
  assert.equal(cut.hiddenLines, 1);
});

test("errors show their traceback; a title only when it would not repeat it", () => {
  const tb = ["  Cell In[1], line 1", "    1/0", "\x1b[31mZeroDivisionError\x1b[0m: division by zero"];
  const shown = errorView({ ename: "ZeroDivisionError", evalue: "division by zero", traceback: tb });
  assert.equal(shown.title, null);
  assert.equal(shown.traceback, tb.join("\n"));
  assert.deepEqual(errorView({ ename: "KernelDied", evalue: "gone", traceback: [] }),
    { title: { ename: "KernelDied", evalue: "gone" }, traceback: "" });
  assert.deepEqual(errorView({ ename: "E", evalue: "v", traceback: ["something else"] }).title,
    { ename: "E", evalue: "v" });
});
