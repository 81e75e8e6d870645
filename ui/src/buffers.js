// Binary buffers of Jupyter messages on the web UI's JSON WebSocket frames, where they
// travel as base64 strings (server/protocol.py).  Pure: no DOM (node tests in ui/test).

/** base64 strings (or buffers already) -> DataViews, as widget models expect them. */
export function decodeBuffers(buffers) {
  return (buffers || []).map((b) => {
    if (typeof b !== "string") {
      if (b instanceof DataView) return b;
      return ArrayBuffer.isView(b) ? new DataView(b.buffer, b.byteOffset, b.byteLength) : new DataView(b);
    }
    const bytes = Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
    return new DataView(bytes.buffer);
  });
}

/** ArrayBuffers or views (of any offset) -> base64 strings. */
export function encodeBuffers(buffers) {
  return (buffers || []).map((b) => {
    const bytes = b instanceof ArrayBuffer ? new Uint8Array(b)
      : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  });
}
