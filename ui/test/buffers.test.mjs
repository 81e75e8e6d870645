// Widget message buffers on JSON frames: base64 both ways (ui/src/buffers.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeBuffers, encodeBuffers } from "../src/buffers.js";

const bytesOf = (view) => [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];

test("a view into a larger buffer sends only its own bytes", () => {
  const whole = new Uint8Array([9, 1, 2, 3, 9]);
  const [text] = encodeBuffers([new DataView(whole.buffer, 1, 3)]);
  assert.equal(text, Buffer.from([1, 2, 3]).toString("base64"));
});

test("round trip of every byte value, and of a large buffer", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const big = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
  const decoded = decodeBuffers(encodeBuffers([all.buffer, big]));
  assert.ok(decoded.every((d) => d instanceof DataView));
  assert.deepEqual(bytesOf(decoded[0]), [...all]);
  assert.deepEqual(bytesOf(decoded[1]), [...big]);
});

test("nothing, and buffers that are views already, pass through", () => {
  assert.deepEqual(decodeBuffers(undefined), []);
  assert.deepEqual(encodeBuffers(null), []);
  const view = new DataView(new ArrayBuffer(2));
  assert.equal(decodeBuffers([view])[0], view);
  assert.deepEqual(bytesOf(decodeBuffers([new Uint8Array([5, 6]).subarray(1)])[0]), [6]);
});
