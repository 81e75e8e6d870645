// Output rendering: ANSI text and the Jupyter output types (stream, error,
// execute_result, display_data); Markdown, math and HTML sanitising are markdown.js's.
import { latexToHtml, renderMarkdown, sanitizeHtml, typeset } from "./markdown.js";
import { IMAGE_MIMES, errorView, imageOptions, preferredMime, tailOf } from "./mime.js";
import { WIDGET_VIEW_MIME, widgetOutput } from "./widgets.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

// ---- ANSI ------------------------------------------------------------------
const ANSI_COLORS = ["#1f2430", "#c0392b", "#2e7d32", "#b7791f", "#2b59c3", "#9b2c9b",
  "#0f7b8a", "#6b7385"];
const ANSI_BRIGHT = ["#6b7385", "#e5534b", "#46a35e", "#d69e2e", "#4f7be0", "#c05ac0",
  "#2aa1b3", "#9aa1b1"];

function color256(n) {
  if (n < 8) return ANSI_COLORS[n];
  if (n < 16) return ANSI_BRIGHT[n - 8];
  if (n < 232) {
    const v = n - 16;
    const c = (x) => (x === 0 ? 0 : 55 + x * 40);
    return `rgb(${c(Math.floor(v / 36))},${c(Math.floor(v / 6) % 6)},${c(v % 6)})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g},${g},${g})`;
}

/** Collapse carriage returns like a terminal would (progress bars). */
export function collapseCR(text) {
  if (!text.includes("\r")) return text;
  return text.split("\n").map((line) => {
    const parts = line.split("\r");
    while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    return parts[parts.length - 1];
  }).join("\n");
}

/** Append ANSI-coloured `text` to `parent` as text nodes and <span>s (never HTML). */
export function appendAnsi(parent, text) {
  const re = /\x1b\[([0-9;]*)m/g;
  let style = {};
  let last = 0;
  const push = (chunk) => {
    // Sequences other than colours (erase line, cursor moves) are not drawn: dropped
    // from every chunk, not only from the text after the last colour.
    chunk = stripAnsi(chunk);
    if (!chunk) return;
    const keys = Object.keys(style);
    if (!keys.length) { parent.append(document.createTextNode(chunk)); return; }
    const span = document.createElement("span");
    if (style.fg) span.style.color = style.fg;
    if (style.bg) span.style.backgroundColor = style.bg;
    if (style.bold) span.style.fontWeight = "600";
    if (style.italic) span.style.fontStyle = "italic";
    if (style.underline) span.style.textDecoration = "underline";
    span.textContent = chunk;
    parent.append(span);
  };
  let match;
  while ((match = re.exec(text))) {
    push(text.slice(last, match.index));
    last = re.lastIndex;
    const codes = match[1] === "" ? [0] : match[1].split(";").map(Number);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) style = {};
      else if (c === 1) style.bold = true;
      else if (c === 3) style.italic = true;
      else if (c === 4) style.underline = true;
      else if (c === 22) delete style.bold;
      else if (c === 23) delete style.italic;
      else if (c === 24) delete style.underline;
      else if (c >= 30 && c <= 37) style.fg = ANSI_COLORS[c - 30];
      else if (c >= 90 && c <= 97) style.fg = ANSI_BRIGHT[c - 90];
      else if (c >= 40 && c <= 47) style.bg = ANSI_COLORS[c - 40];
      else if (c >= 100 && c <= 107) style.bg = ANSI_BRIGHT[c - 100];
      else if (c === 39) delete style.fg;
      else if (c === 49) delete style.bg;
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
        style[c === 38 ? "fg" : "bg"] = color256(codes[i + 2] || 0); i += 2;
      } else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
        style[c === 38 ? "fg" : "bg"] = `rgb(${codes[i + 2] | 0},${codes[i + 3] | 0},${codes[i + 4] | 0})`;
        i += 4;
      }
    }
  }
  push(text.slice(last));
}

export function stripAnsi(text) {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

// ---- Markdown, LaTeX, sanitised HTML: markdown.js (marked, DOMPurify, KaTeX) --------
export { renderMarkdown, sanitizeHtml };

// ---- outputs -----------------------------------------------------------------------
const MAX_LINES = 200;
const MAX_CHARS = 20000;

// A long text shows its END (the last lines of a running loop, its result, its error),
// as a terminal does; "Show N earlier lines" unfolds the rest. `state` is the output the block
// shows: unfolding marks it expanded (a property that is not saved), so redrawing the
// same output, or more text appended to it, stays unfolded.
function textBlock(text, className, state = {}) {
  const pre = el("pre", { class: className });
  const clean = collapseCR(text);
  const { hidden, tail, hiddenLines } = state.expanded ? { hidden: "" } : tailOf(clean, MAX_LINES, MAX_CHARS);
  if (!hidden) {
    appendAnsi(pre, clean);
    return pre;
  }
  appendAnsi(pre, tail);
  const label = hiddenLines === 1 && !hidden.endsWith("\n")
    ? `Show ${hidden.length.toLocaleString()} earlier characters`
    : `Show ${hiddenLines.toLocaleString()} earlier line${hiddenLines === 1 ? "" : "s"}`;
  const more = el("button", {
    type: "button", class: "rk-link rk-show-earlier", text: label,
    title: `${hidden.length.toLocaleString()} characters are folded above`,
    onclick: () => {
      Object.defineProperty(state, "expanded", { value: true, writable: true, configurable: true });
      pre.replaceChildren();
      appendAnsi(pre, clean);
      more.remove();
      wrap.classList.remove("rk-truncated");
      tailBox.classList.remove("rk-tail");
    },
  });
  // The tail scrolls in a box that starts at its bottom (CSS: column-reverse): the last
  // line is in view where the output begins, the rest of the tail a scroll away.
  const tailBox = el("div", { class: "rk-tail" }, pre);
  const wrap = el("div", { class: "rk-truncated" }, more, tailBox);
  return wrap;
}

const joinText = (v) => (Array.isArray(v) ? v.join("") : v || "");

/** The text of a stream output that renders as one plain text node in a <pre> (no ANSI
 * escapes, no carriage returns, under the "show more" limits), or null. Such an output's
 * text can be replaced in place when it changes, instead of building a new block. */
export function plainStreamText(output) {
  if (output.output_type !== "stream") return null;
  const text = joinText(output.text);
  if (text.length > MAX_CHARS || /[\x1b\r]/.test(text)) return null;
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
    if (++lines > MAX_LINES) return null;
  }
  return text;
}

// pandas' notebook repr starts with a <style scoped> block that only aligns its own
// headers; the page's table styling does that, so it is dropped and the table renders
// inline like any other HTML.
const PANDAS_STYLE = /^\s*(<div>\s*)?<style scoped>[^<]*<\/style>/;
const ACTIVE_HTML = /<script|<iframe|<canvas|<svg[\s>]|<style|javascript:|\son\w+\s*=/i;

// HTML that needs scripts or styles of its own runs in a frame of its own
// (/output-frame, sandboxed: scripts, but no access to this page), which asks for its
// HTML once loaded and then reports its height, so the frame fits its content.
const FRAME_MAX_HEIGHT = 1200;
const frameHtml = new WeakMap();  // iframe -> the HTML it shows

function frameOf(source) {
  for (const frame of document.querySelectorAll("iframe.rk-html-frame")) {
    if (frame.contentWindow === source) return frame;
  }
  return null;
}

window.addEventListener("message", (event) => {
  const data = event.data;
  if (!data || typeof data !== "object" || !event.source) return;
  if (data.rkFrameReady !== true && typeof data.rkFrameHeight !== "number") return;
  const frame = frameOf(event.source);
  if (!frame) return;
  if (data.rkFrameReady === true && frameHtml.has(frame)) {
    // The frame's origin is opaque: "*" is the only target that reaches it.
    event.source.postMessage({ rkHtml: frameHtml.get(frame) }, "*");
  } else if (typeof data.rkFrameHeight === "number") {
    const height = Math.ceil(data.rkFrameHeight);
    frame.style.height = `${Math.min(Math.max(height, 16), FRAME_MAX_HEIGHT)}px`;
    frame.classList.toggle("rk-frame-capped", height > FRAME_MAX_HEIGHT);
  }
});

function htmlOutput(html) {
  const pandas = html.match(PANDAS_STYLE);
  if (pandas) html = (pandas[1] || "") + html.slice(pandas[0].length);
  if (ACTIVE_HTML.test(html)) {
    const frame = el("iframe", {
      class: "rk-html-frame", sandbox: "allow-scripts", title: "HTML output (sandboxed)",
    });
    frameHtml.set(frame, html);
    frame.src = "/output-frame";
    return frame;
  }
  const div = el("div", { class: "rk-html" });
  div.append(sanitizeHtml(html));
  return div;
}

// Images honour the output's metadata, as JupyterLab does: Image(width=, height=) and
// unconfined=True (no shrinking to the page's width).
function imageOutput(mime, raw, metadata) {
  const src = mime === "image/svg+xml"
    ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(raw)}`
    : `data:${mime};base64,${raw.replace(/\s/g, "")}`;
  const { width, height, unconfined } = imageOptions(metadata, mime);
  const img = el("img", {
    class: unconfined ? "rk-image rk-image-unconfined" : "rk-image",
    alt: mime === "image/svg+xml" ? "SVG output" : "image output", src, width, height,
  });
  if (height) img.style.height = `${height}px`;
  return img;
}

// application/json as JupyterLab's viewer shows it: a tree, the root open, the rest
// folded unless the output asks for {"expanded": true}; a branch is built when opened.
function jsonKey(key) {
  return key === undefined ? null : el("span", { class: "rk-json-key", text: `${key}: ` });
}

function jsonNode(value, key, expanded, top = false) {
  if (value === null || typeof value !== "object") {
    const type = value === null ? "null" : typeof value;
    return el("div", { class: "rk-json-leaf" }, jsonKey(key),
      el("span", { class: `rk-json-${type}`, text: JSON.stringify(value) ?? String(value) }));
  }
  const array = Array.isArray(value);
  const entries = array ? value.map((v, i) => [i, v]) : Object.entries(value);
  const brackets = array ? "[]" : "{}";
  if (!entries.length) {
    return el("div", { class: "rk-json-leaf" }, jsonKey(key), el("span", { class: "rk-json-meta", text: brackets }));
  }
  const count = `${brackets} ${entries.length} ${array ? "item" : "key"}${entries.length === 1 ? "" : "s"}`;
  const children = el("div", { class: "rk-json-children" });
  const node = el("details", { class: "rk-json-node" },
    el("summary", {}, jsonKey(key), el("span", { class: "rk-json-meta", text: count })), children);
  const fill = () => {
    if (children.childElementCount) return;
    children.append(...entries.map(([k, v]) => jsonNode(v, k, expanded)));
  };
  node.addEventListener("toggle", () => { if (node.open) fill(); });
  if (top || expanded) { node.open = true; fill(); }
  return node;
}

function jsonOutput(value, metadata) {
  const meta = (metadata && metadata["application/json"]) || {};
  const root = typeof meta.root === "string" && meta.root ? meta.root : "root";
  return el("div", { class: "rk-json" }, jsonNode(value, root, meta.expanded === true, true));
}

function richOutput(data, state, metadata) {
  if (data[WIDGET_VIEW_MIME] !== undefined) return widgetOutput(data);
  const mime = preferredMime(data);
  if (mime === "application/json") return jsonOutput(data[mime], metadata);
  if (mime === "text/html") return htmlOutput(joinText(data[mime]));
  if (mime === "text/markdown") {
    const div = el("div", { class: "rk-markdown rk-markdown-output" });
    div.innerHTML = renderMarkdown(joinText(data[mime]));
    typeset(div);
    return div;
  }
  if (mime === "text/latex") {
    const div = el("div", { class: "rk-latex" });
    div.innerHTML = latexToHtml(joinText(data[mime]));
    typeset(div);
    return div;
  }
  if (mime === "image/svg+xml" || IMAGE_MIMES.has(mime)) return imageOutput(mime, joinText(data[mime]), metadata);
  if (mime === "text/plain") return textBlock(joinText(data[mime]), "rk-text", state);
  return el("div", { class: "rk-muted", text: `[unsupported output: ${Object.keys(data).join(", ")}]` });
}

/** One nbformat output as a DOM node; `state` (default: the output) remembers what the
 * user unfolded. */
export function renderOutput(output, state = output) {
  switch (output.output_type) {
    case "stream":
      return textBlock(joinText(output.text), output.name === "stderr" ? "rk-stream rk-stderr" : "rk-stream", state);
    case "error": {
      // The traceback, as JupyterLab shows it (it ends with "ename: evalue"); a title
      // only when there is no traceback that names the error.
      const box = el("div", { class: "rk-error", role: "alert" });
      const { title, traceback } = errorView(output);
      if (title) {
        box.append(el("div", { class: "rk-error-title" },
          el("strong", { text: title.ename }), title.evalue ? `: ${title.evalue}` : ""));
      }
      if (traceback) box.append(textBlock(traceback, "rk-traceback", state));
      return box;
    }
    case "execute_result":
    case "display_data":
      return richOutput(output.data || {}, state, output.metadata || {});
    default:
      return el("div", { class: "rk-muted", text: `[${output.output_type}]` });
  }
}
