// Pure decisions about outputs (no DOM): which MIME type of a display to render, the
// size an image asks for, which end of a long stream to show, and what an error shows.
// Kept apart from render.js so node's tests can import them.

/** The MIME types the page renders, most preferred first: JupyterLab's renderer ranks
 * (application/json 0, text/html 50, text/markdown 60, text/latex 70, image/svg+xml 80,
 * bitmap images 90, text/plain 120). Widget views are chosen before these (widgets.js). */
export const MIME_ORDER = [
  "application/json",
  "text/html",
  "text/markdown",
  "text/latex",
  "image/svg+xml",
  "image/bmp",
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "text/plain",
];

export const IMAGE_MIMES = new Set(["image/bmp", "image/png", "image/jpeg", "image/gif", "image/webp"]);

/** The MIME type of `data` (a display's mime bundle) to render, or null. */
export function preferredMime(data) {
  if (!data || typeof data !== "object") return null;
  for (const mime of MIME_ORDER) if (data[mime] !== undefined && data[mime] !== null) return mime;
  return null;
}

const positive = (v) => {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
};

/** What an image output's metadata asks for (IPython's Image(width=, height=,
 * unconfined=)): `metadata[mime]`, as JupyterLab reads it. */
export function imageOptions(metadata, mime) {
  const m = (metadata && typeof metadata === "object" && metadata[mime]) || {};
  return {
    width: positive(m.width),
    height: positive(m.height),
    unconfined: m.unconfined === true,
  };
}

/** Split a long text into the part folded away and the END that stays visible: the last
 * `maxLines` lines, at most `maxChars` characters (cut at a line start when one is
 * near). `hidden` is "" when everything fits. `hiddenLines` counts the lines (whole or
 * cut) that are folded. */
export function tailOf(text, maxLines, maxChars) {
  const trailing = text.endsWith("\n");
  const body = trailing ? text.slice(0, -1) : text;
  let start = 0;
  let seen = 0;
  for (let i = body.lastIndexOf("\n"); i !== -1; i = i > 0 ? body.lastIndexOf("\n", i - 1) : -1) {
    if (++seen === maxLines) { start = i + 1; break; }
  }
  if (text.length - start > maxChars) {
    const from = text.length - maxChars;
    const nl = text.indexOf("\n", from);
    start = nl !== -1 && nl + 1 < text.length && nl - from < 2000 ? nl + 1 : from;
  }
  const hidden = text.slice(0, start);
  let hiddenLines = 0;
  for (let i = hidden.indexOf("\n"); i !== -1; i = hidden.indexOf("\n", i + 1)) hiddenLines++;
  if (hidden && !hidden.endsWith("\n")) hiddenLines++;
  return { hidden, tail: text.slice(start), hiddenLines };
}

const stripAnsi = (text) => String(text).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/** What an error output shows, as JupyterLab does: its traceback (ANSI), which already
 * ends with "ename: evalue"; a title only when the traceback is empty, or does not name
 * the error. */
export function errorView(output) {
  const traceback = (output.traceback || []).join("\n");
  const ename = output.ename || "Error";
  const evalue = output.evalue ? stripAnsi(output.evalue) : "";
  const plain = stripAnsi(traceback);
  const title = !plain.trim() || !plain.includes(ename) ? { ename, evalue } : null;
  return { title, traceback: plain.trim() ? traceback : "" };
}
