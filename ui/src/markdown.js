// Markdown, LaTeX and HTML as JupyterLab renders them: math is taken out of the source
// first (removeMath), the rest is GFM Markdown (marked), the HTML is
// sanitised (DOMPurify: no scripts, event handlers or javascript: URLs; inline styles
// kept), then the math is typeset with KaTeX. KaTeX is a bundle of its own
// (static/build/math.js and .css) loaded the first time a page shows math.
import DOMPurify from "dompurify";
import { Marked } from "marked";

const MATH_URL = "/static/build/math.js";

// ---- math out of the way of the Markdown parser ----------------------------------
// Math is cut out of the source before Markdown sees it (so `_` and `*` in it are not
// emphasis) and replaced by @@n@@ placeholders, which go back into the HTML.  What is
// math is what Jupyter takes for math: $...$, $$...$$, \\(...\\) and \\[...\\] (as
// written in Markdown, which eats one backslash) and \begin{env}...\end{env}; a closing
// delimiter inside braces does not close; math never runs across a blank line; \$ is a
// dollar; code spans and fenced blocks keep their dollars.  A literal "@@n@@" of the
// source is kept as a group of its own, so that it survives.

const FENCE = /^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^[ \t]{0,3}\1[`~]*[ \t]*$|(?![\s\S]))/gm;
const CODE_SPAN = /(`+)(?:(?!\1)[\s\S])*?\1(?!`)/g;
const PLACEHOLDER = /^@@\d+@@/;
const BLANK_LINE = /\n[ \t]*\n/;
const BLANK_AT = /^\n[ \t]*\n/;

/** [start, end) ranges of `text` that are code: fenced blocks, then code spans. */
function codeRanges(text) {
  const ranges = [];
  for (const m of text.matchAll(FENCE)) ranges.push([m.index, m.index + m[0].length]);
  const inFence = (i) => ranges.some(([a, b]) => a <= i && i < b);
  for (const m of text.matchAll(CODE_SPAN)) {
    if (!inFence(m.index) && !BLANK_LINE.test(m[0])) ranges.push([m.index, m.index + m[0].length]);
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}

/** The delimiter that closes math opened at `i`, and the opener's length; or null. */
function opener(text, i) {
  if (text.startsWith("$$", i)) return { open: 2, close: "$$" };
  if (text[i] === "$") return { open: 1, close: "$" };
  if (text.startsWith("\\\\(", i)) return { open: 3, close: "\\\\)" };
  if (text.startsWith("\\\\[", i)) return { open: 3, close: "\\\\]" };
  const env = /^\\begin\{([a-z]*\*?)\}/i.exec(text.slice(i, i + 40));
  if (env) return { open: env[0].length, close: `\\end{${env[1]}}` };
  return null;
}

/** Where math opened at `i` (opener `open` characters long) ends, or -1. */
function mathEnd(text, i, open, close) {
  let depth = 0;
  for (let j = i + open; j < text.length; j++) {
    const c = text[j];
    if (c === "\\" && "{}$".includes(text[j + 1] || "")) { j++; continue; }
    if (c === "\n" && BLANK_AT.test(text.slice(j, j + 80))) return -1;
    if (c === "{") depth++;
    else if (c === "}" && depth) depth--;
    else if (depth === 0 && text.startsWith(close, j)) return j + close.length;
  }
  return -1;
}

const escapeMath = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** `text` with its math replaced by @@n@@: `math[n]` is the n-th group, delimiters
 * included, with &, < and > as entities (or a literal "@@k@@" of the source). */
export function removeMath(text) {
  text = String(text).replace(/\r\n?/g, "\n");
  const math = [];
  const code = codeRanges(text);
  let out = "";
  let i = 0;
  let next = 0;  // the next code range
  while (i < text.length) {
    while (next < code.length && code[next][1] <= i) next++;
    if (next < code.length && code[next][0] === i) {
      out += text.slice(i, code[next][1]);
      i = code[next][1];
      continue;
    }
    const literal = PLACEHOLDER.exec(text.slice(i, i + 24));
    if (literal) {
      out += `@@${math.length}@@`;
      math.push(literal[0]);
      i += literal[0].length;
      continue;
    }
    if (text[i] === "\\" && "{}$".includes(text[i + 1] || "")) {
      out += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    const found = text[i] === "$" || text[i] === "\\" ? opener(text, i) : null;
    const end = found ? mathEnd(text, i, found.open, found.close) : -1;
    if (end < 0) {
      out += text[i];
      i += 1;
      continue;
    }
    out += `@@${math.length}@@`;
    math.push(escapeMath(text.slice(i, end)));
    i = end;
  }
  return { text: out, math };
}

/** The placeholders of `text` back as the source's text (\\( and \\[ lose the
 * backslash Markdown would have eaten). */
export function replaceMath(text, math) {
  return text.replace(/@@(\d+)@@/g, (all, n) => {
    const group = math[n];
    if (group === undefined) return all;
    if (/^\\\\[([]/.test(group)) return `\\${group.slice(2, -3)}\\${group.slice(-1)}`;
    return group;
  });
}

/** A math group's TeX without its delimiters, and whether it is display math; null for
 * something that is not math (a literal "@@n@@" of the source). */
export function splitMath(group) {
  const g = group.trim();
  if (g.startsWith("$$") && g.endsWith("$$") && g.length >= 4) return { tex: g.slice(2, -2), display: true };
  if (g.startsWith("$") && g.endsWith("$") && g.length >= 2) return { tex: g.slice(1, -1), display: false };
  if (/^\\\\?\(/.test(g)) return { tex: g.replace(/^\\\\?\(|\\\\?\)$/g, ""), display: false };
  if (/^\\\\?\[/.test(g)) return { tex: g.replace(/^\\\\?\[|\\\\?\]$/g, ""), display: true };
  if (g.startsWith("\\begin")) return { tex: g, display: true };
  return null;
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ({
  "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
})[c]);

// Placeholders in text become <span class="rk-math">TeX</span> (typeset later); inside
// a tag (a link's title or URL) they go back as plain text.
function restoreMath(html, math) {
  const text = (n) => (math[n] === undefined ? `@@${n}@@` : math[n]);
  return html.replace(/<[^>]*>|@@(\d+)@@/g, (all, n) => {
    if (n === undefined) {
      return all.includes("@@") ? all.replace(/@@(\d+)@@/g, (_, k) => text(k).replace(/"/g, "&quot;")) : all;
    }
    const group = math[n];
    if (group === undefined || !splitMath(group)) return escapeHtml(text(n));
    return `<span class="rk-math">${group}</span>`;
  });
}

// ---- Markdown ------------------------------------------------------------------------
const marked = new Marked({ gfm: true, breaks: false, async: false });

/** Markdown (GFM, raw HTML allowed) to HTML, NOT yet sanitised, with its math as
 * <span class="rk-math"> elements holding the TeX and its delimiters. */
export function markdownToHtml(src) {
  const { text, math } = removeMath(String(src));
  return restoreMath(marked.parse(text), math);
}

/** text/latex as JupyterLab shows it: the text, its $...$, $$...$$, \begin{..} math typeset. */
export function latexToHtml(src) {
  const { text, math } = removeMath(String(src));
  return escapeHtml(text).replace(/@@(\d+)@@/g, (all, n) => {
    const group = math[n];
    if (group === undefined) return all;
    return splitMath(group) ? `<span class="rk-math">${group}</span>` : escapeHtml(group);
  });
}

// ---- sanitising ----------------------------------------------------------------------
// A purifier of our own (hooks of other users of DOMPurify are not ours).
let purifier = null;
const SAFE_POSITION = /^(|static|relative)$/i;
let attachmentsNow = null;  // the Markdown cell's attachments while it is sanitised

function purify() {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook("uponSanitizeAttribute", (node, data) => {
    // An image the cell carries: its data: URL, which the sanitiser then checks as any.
    if (attachmentsNow && data.attrName === "src" && node.nodeName === "IMG") {
      const url = attachmentUrl(attachmentsNow, data.attrValue);
      if (url) data.attrValue = url;
    }
  });
  purifier.addHook("afterSanitizeAttributes", (node) => {
    // Inline styles stay (coloured text, widths), but nothing is laid over the page.
    if (node.hasAttribute && node.hasAttribute("style") && node.style
        && !SAFE_POSITION.test(node.style.position || "")) {
      node.style.removeProperty("position");
      if (!node.getAttribute("style").trim()) node.removeAttribute("style");
    }
  });
  return purifier;
}

const BASE = {
  // <style> would restyle the whole page; forms would post elsewhere.
  FORBID_TAGS: ["style", "form", "base", "link", "meta"],
  // pandas' border="1": the page's table styles draw the lines.
  FORBID_ATTR: ["border"],
  ADD_ATTR: ["target"],
  // ids and names get a "user-content-" prefix: none may shadow the page's own.
  SANITIZE_NAMED_PROPS: true,
};

// Images the page can show: absolute URLs, data: images and the server's own paths.
// A relative one (images/pic.png) is a file beside the notebook, which this server does
// not serve: its alt text stands in for it, as for an attachment the cell lacks.
const SHOWN_IMAGE = /^(https?:|data:image\/|blob:|\/)/i;

// A Markdown cell's images pasted in JupyterLab travel in the cell ("attachments":
// name -> MIME bundle, base64 data) and are named by `attachment:NAME` URLs.  Only an
// image type becomes a data: URL.
const ATTACHED_IMAGE = /^image\/(png|jpeg|gif|webp|bmp|avif|svg\+xml)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/** The data: URL of the image ``src`` ("attachment:NAME") names in ``attachments``, or
 * null (not an attachment, none of that name, or not an image). */
export function attachmentUrl(attachments, src) {
  if (!attachments || typeof attachments !== "object" || typeof src !== "string") return null;
  const ref = /^\s*attachment:(.+?)\s*$/i.exec(src);
  if (!ref) return null;
  let name = ref[1];
  if (!has(attachments, name)) {
    try { name = decodeURIComponent(name); } catch { return null; }
  }
  const bundle = has(attachments, name) ? attachments[name] : null;
  if (!bundle || typeof bundle !== "object") return null;
  for (const [mime, value] of Object.entries(bundle)) {
    if (!ATTACHED_IMAGE.test(mime)) continue;
    const text = Array.isArray(value) ? value.join("") : value;
    if (typeof text !== "string" || !text) continue;
    const base64 = text.replace(/\s+/g, "");
    if (BASE64.test(base64)) return `data:${mime};base64,${base64}`;
    // SVG may be kept as its text.
    if (mime === "image/svg+xml" && text.trimStart().startsWith("<")) return `data:${mime},${encodeURIComponent(text)}`;
  }
  return null;
}

function finish(root) {
  for (const img of root.querySelectorAll("img")) {
    const src = (img.getAttribute("src") || "").trim();
    if (SHOWN_IMAGE.test(src)) continue;
    const alt = img.getAttribute("alt") || src.split("/").pop() || "image";
    const span = root.ownerDocument.createElement("span");
    span.className = "rk-img-alt";
    span.textContent = alt;
    if (src) span.title = `${src} (files beside the notebook are not served)`;
    img.replaceWith(span);
  }
  for (const a of root.querySelectorAll("a[href]")) {
    const href = a.getAttribute("href");
    if (href.startsWith("#")) {
      if (href.length > 1 && !href.startsWith("#user-content-")) {
        a.setAttribute("href", `#user-content-${href.slice(1)}`);
      }
      a.removeAttribute("target");
    } else {
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
    }
  }
  // JupyterLab's heading anchors: the heading's text, spaces as "-".
  for (const h of root.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    if (!h.id) h.id = `user-content-${h.textContent.trim().replace(/ /g, "-")}`;
  }
}

/** Sanitised HTML (a fragment of the page's document) for an inline HTML output. */
export function sanitizeHtml(html) {
  const frag = purify().sanitize(html, { ...BASE, RETURN_DOM_FRAGMENT: true });
  finish(frag);
  return document.importNode(frag, true);
}

/** Sanitised HTML as a string (HTML a widget's saved state sets as innerHTML). */
export function sanitizeHtmlString(html) {
  return purify().sanitize(String(html), BASE);
}

// ---- KaTeX, loaded on first use ----------------------------------------------------
let mathModule = null;
let mathLoading = null;
const texCache = new Map();

function loadMath() {
  if (!mathLoading) {
    mathLoading = import(/* @vite-ignore */ MATH_URL).then((m) => {
      m.addStyles();
      mathModule = m;
      return m;
    }, (error) => {
      console.warn("math: KaTeX did not load", error);
      mathLoading = null;
      throw error;
    });
  }
  return mathLoading;
}

function texHtml(tex, display) {
  const key = `${display ? "D" : "I"}${tex}`;
  let html = texCache.get(key);
  if (html === undefined) {
    html = mathModule.renderTex(tex, display);
    if (texCache.size > 2000) texCache.clear();
    texCache.set(key, html);
  }
  return html;
}

const PENDING = "span.rk-math:not(.rk-math-done)";

function typesetNow(root) {
  for (const span of root.querySelectorAll(PENDING)) {
    const parts = splitMath(span.textContent);
    if (!parts || span.closest("code, pre")) {  // math in code stays text
      span.replaceWith(span.ownerDocument.createTextNode(span.textContent));
      continue;
    }
    span.innerHTML = texHtml(parts.tex, parts.display);
    span.classList.add("rk-math-done");
    if (parts.display) span.classList.add("rk-math-display");
  }
}

/** Typeset the math under `root` (loads KaTeX the first time). */
export function typeset(root) {
  if (!root.querySelector(PENDING)) return Promise.resolve();
  if (mathModule) { typesetNow(root); return Promise.resolve(); }
  return loadMath().then(() => typesetNow(root), () => {});
}

let docTypesetQueued = false;

function typesetDocumentSoon() {
  if (docTypesetQueued) return;
  docTypesetQueued = true;
  queueMicrotask(() => {
    docTypesetQueued = false;
    typeset(document.body);
  });
}

// ---- Markdown cells and outputs ---------------------------------------------------------
// source -> sanitised HTML, when it holds no math still to typeset; a cell's own cache
// for each attachments object.
const mdCache = new Map();
const attachedCache = new WeakMap();

/** Markdown to sanitised HTML (a string: Markdown cells set it as innerHTML), its
 * `attachment:` images from ``attachments`` (a cell's). Math is typeset in it when
 * KaTeX is loaded; otherwise KaTeX is loaded, and the page's math typeset once it is
 * there. */
export function renderMarkdown(src, attachments = null) {
  const own = attachments && typeof attachments === "object" && /attachment:/i.test(src);
  if (own && !attachedCache.has(attachments)) attachedCache.set(attachments, new Map());
  const cache = own ? attachedCache.get(attachments) : mdCache;
  const cached = cache.get(src);
  if (cached !== undefined) return cached;
  attachmentsNow = own ? attachments : null;
  let body;
  try {
    body = purify().sanitize(markdownToHtml(src), { ...BASE, RETURN_DOM: true });
  } finally {
    attachmentsNow = null;
  }
  finish(body);
  if (mathModule) typesetNow(body);
  const html = body.innerHTML;
  if (body.querySelector(PENDING)) {
    typesetDocumentSoon();
  } else {
    if (cache.size > 500) cache.clear();
    cache.set(src, html);
  }
  return html;
}
