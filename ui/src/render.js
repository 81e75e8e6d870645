// Output rendering: ANSI text, a small safe Markdown renderer, an HTML sanitizer,
// and the Jupyter output types (stream, error, execute_result, display_data).
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
  push(text.slice(last).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ""));
}

export function stripAnsi(text) {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

// ---- Markdown (escape first, then a small safe subset) -----------------------
function safeUrl(url, image = false) {
  const u = url.trim();
  if (/^(https?:|mailto:|#|\/|\.\/)/i.test(u)) return u;
  if (image && /^data:image\/(png|jpeg|gif|webp);/i.test(u)) return u;
  return null;
}

function inline(text) {
  // `text` is raw; code spans are protected, the rest escaped then formatted.
  const codes = [];
  let s = text.replace(/`([^`]+)`/g, (_, code) => {
    codes.push(`<code>${escapeHtml(code)}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = escapeHtml(s);
  s = s.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (m, alt, url) => {
    const safe = safeUrl(url.replace(/&amp;/g, "&"), true);
    return safe ? `<img alt="${alt}" src="${escapeHtml(safe)}">` : m;
  });
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, label, url) => {
    const safe = safeUrl(url.replace(/&amp;/g, "&"));
    return safe ? `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">${label}</a>` : m;
  });
  s = s.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/__([^_]+)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/(^|\W)_([^_\s][^_]*)_(?=\W|$)/g, "$1<em>$2</em>")
    .replace(/~~([^~]+)~~/g, "<del>$1</del>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => codes[Number(i)]);
}

/** Render Markdown to an HTML string in which all source text is escaped. */
export function renderMarkdown(src) {
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(" "))}</p>`);
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if ((m = line.match(/^\s*```\s*([\w+-]*)/))) {
      flush();
      const body = [];
      i++;
      while (i < lines.length && !/^\s*```/.test(lines[i])) body.push(lines[i++]);
      i++;
      out.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    if ((m = line.match(/^(#{1,6})\s+(.*)$/))) {
      flush();
      out.push(`<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`);
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out.push("<hr>");
    } else if (/^\s*>/.test(line)) {
      flush();
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*>\s?/, ""));
      out.push(`<blockquote>${renderMarkdown(body.join("\n"))}</blockquote>`);
      continue;
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d/.test(line);
      const items = [];
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
        items.push(`<li>${inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))}</li>`);
        i++;
      }
      out.push(ordered ? `<ol>${items.join("")}</ol>` : `<ul>${items.join("")}</ul>`);
      continue;
    } else if (!line.trim()) {
      flush();
    } else {
      para.push(line.trim());
    }
    i++;
  }
  flush();
  return out.join("\n");
}

// ---- HTML sanitizer (allow-list) ------------------------------------------------
const ALLOWED_TAGS = new Set(["a", "abbr", "b", "blockquote", "br", "caption", "code", "col",
  "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5",
  "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "small", "span", "strong",
  "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"]);
const ALLOWED_ATTRS = new Set(["class", "colspan", "rowspan", "align", "title", "alt", "href",
  "src", "width", "height", "scope", "start", "open"]);

export function sanitizeHtml(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const walk = (node) => {
    for (const child of [...node.childNodes]) {
      if (child.nodeType === Node.TEXT_NODE) continue;
      if (child.nodeType !== Node.ELEMENT_NODE) { child.remove(); continue; }
      const tag = child.tagName.toLowerCase();
      if (!ALLOWED_TAGS.has(tag)) {
        if (["script", "style", "iframe", "object", "embed", "template", "noscript"].includes(tag)) {
          child.remove();
        } else {
          walk(child);
          child.replaceWith(...child.childNodes);
        }
        continue;
      }
      for (const attr of [...child.attributes]) {
        const name = attr.name.toLowerCase();
        if (!ALLOWED_ATTRS.has(name)) { child.removeAttribute(attr.name); continue; }
        if (name === "href" && !safeUrl(attr.value)) child.removeAttribute(attr.name);
        if (name === "src" && !safeUrl(attr.value, true)) child.removeAttribute(attr.name);
      }
      if (tag === "a") { child.setAttribute("target", "_blank"); child.setAttribute("rel", "noopener noreferrer"); }
      walk(child);
    }
  };
  walk(doc.body);
  const frag = document.createDocumentFragment();
  frag.append(...doc.body.childNodes);
  return frag;
}

// ---- outputs -----------------------------------------------------------------------
const MAX_LINES = 200;
const MAX_CHARS = 20000;

// `state` is the output the block shows: "Show more" marks it expanded (a property
// that is not saved), so redrawing the same output, or more text appended to it,
// stays unfolded.
function textBlock(text, className, state = {}) {
  const pre = el("pre", { class: className });
  const clean = collapseCR(text);
  const lines = clean.split("\n");
  if (state.expanded || (clean.length <= MAX_CHARS && lines.length <= MAX_LINES)) {
    appendAnsi(pre, clean);
    return pre;
  }
  let head = lines.slice(0, MAX_LINES).join("\n");
  if (head.length > MAX_CHARS) head = head.slice(0, MAX_CHARS);
  appendAnsi(pre, head);
  const hidden = clean.length - head.length;
  const wrap = el("div", { class: "rk-truncated" }, pre);
  const more = el("button", {
    type: "button", class: "rk-link", text: `Show more (${hidden.toLocaleString()} more characters)`,
    onclick: () => {
      Object.defineProperty(state, "expanded", { value: true, writable: true, configurable: true });
      pre.replaceChildren();
      appendAnsi(pre, clean);
      more.remove();
    },
  });
  wrap.append(more);
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

function richOutput(data, state) {
  if (data[WIDGET_VIEW_MIME] !== undefined) return widgetOutput(data);
  if (data["text/html"] !== undefined) return htmlOutput(joinText(data["text/html"]));
  for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
    if (data[mime] !== undefined) {
      return el("img", { class: "rk-image", alt: "image output",
        src: `data:${mime};base64,${joinText(data[mime]).replace(/\s/g, "")}` });
    }
  }
  if (data["image/svg+xml"] !== undefined) {
    const svg = joinText(data["image/svg+xml"]);
    return el("img", { class: "rk-image", alt: "SVG output",
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` });
  }
  if (data["text/markdown"] !== undefined) {
    const div = el("div", { class: "rk-markdown" });
    div.innerHTML = renderMarkdown(joinText(data["text/markdown"]));
    return div;
  }
  if (data["text/latex"] !== undefined && data["text/plain"] === undefined) {
    return textBlock(joinText(data["text/latex"]), "rk-text", state);
  }
  if (data["application/json"] !== undefined && data["text/plain"] === undefined) {
    return textBlock(JSON.stringify(data["application/json"], null, 2), "rk-text", state);
  }
  if (data["text/plain"] !== undefined) return textBlock(joinText(data["text/plain"]), "rk-text", state);
  return el("div", { class: "rk-muted", text: `[unsupported output: ${Object.keys(data).join(", ")}]` });
}

/** One nbformat output as a DOM node; `state` (default: the output) remembers what the
 * user unfolded. */
export function renderOutput(output, state = output) {
  switch (output.output_type) {
    case "stream":
      return textBlock(joinText(output.text), output.name === "stderr" ? "rk-stream rk-stderr" : "rk-stream", state);
    case "error": {
      const box = el("div", { class: "rk-error", role: "alert" });
      const tb = (output.traceback || []).join("\n");
      box.append(el("div", { class: "rk-error-title" },
        el("strong", { text: output.ename || "Error" }), output.evalue ? `: ${stripAnsi(output.evalue)}` : ""));
      if (tb.trim()) box.append(textBlock(tb, "rk-traceback", state));
      return box;
    }
    case "execute_result":
    case "display_data":
      return richOutput(output.data || {}, state);
    default:
      return el("div", { class: "rk-muted", text: `[${output.output_type}]` });
  }
}
