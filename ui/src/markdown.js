// Markdown, LaTeX and HTML as JupyterLab renders them: math is taken out of the source
// first (JupyterLab's removeMath), the rest is GFM Markdown (marked), the HTML is
// sanitised (DOMPurify: no scripts, event handlers or javascript: URLs; inline styles
// kept), then the math is typeset with KaTeX. KaTeX is a bundle of its own
// (static/build/math.js and .css) loaded the first time a page shows math.
import DOMPurify from "dompurify";
import { Marked } from "marked";

const MATH_URL = "/static/build/math.js";

// ---- math out of the way of the Markdown parser ----------------------------------
// removeMath / replaceMath are JupyterLab's (@jupyterlab/rendermime latex.ts, after
// MathJax's and StackExchange's), so the same text is math here and there.

const INLINE = "$";
const MATHSPLIT =
  /(\$\$?|\\(?:begin|end)\{[a-z]*\*?\}|\\[{}$]|[{}]|(?:\n\s*)+|@@\d+@@|\\\\[()[\]])/i;

function processMath(i, j, preProcess, math, blocks) {
  let block = blocks.slice(i, j + 1).join("")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  while (j > i) { blocks[j] = ""; j--; }
  blocks[i] = `@@${math.length}@@`;
  if (preProcess) block = preProcess(block);
  math.push(block);
  return blocks;
}

/** Replace the math of `text` by @@n@@ placeholders; `math[n]` is the n-th group (with
 * its delimiters, &, < and > as entities), or a literal "@@k@@" of the source. */
export function removeMath(text) {
  const math = [];
  let start = null;
  let end = null;
  let last = null;
  let braces = 0;
  let deTilde = (t) => t;
  // Code spans and fences keep their dollars (`$foo` and `$bar` are not math).
  if (text.includes("`") || text.includes("~~~")) {
    text = text.replace(/~/g, "~T")
      .replace(/^(?<fence>`{3,}|(~T){3,})[^`\n]*\n([\s\S]*?)^\k<fence>`*$/gm,
        (whole) => whole.replace(/\$/g, "~D"))
      .replace(/(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)/gm, (whole) => whole.replace(/\$/g, "~D"));
    deTilde = (t) => t.replace(/~([TD])/g, (_, c) => (c === "T" ? "~" : INLINE));
  }
  let blocks = text.replace(/\r\n?/g, "\n").split(MATHSPLIT);
  for (let i = 1, m = blocks.length; i < m; i += 2) {
    const block = blocks[i];
    if (block.charAt(0) === "@") {
      blocks[i] = `@@${math.length}@@`;
      math.push(block);
    } else if (start !== null) {
      if (block === end) {
        if (braces) {
          last = i;
        } else {
          blocks = processMath(start, i, deTilde, math, blocks);
          start = null; end = null; last = null;
        }
      } else if (/\n.*\n/.test(block)) {
        if (last !== null) {
          i = last;
          blocks = processMath(start, i, deTilde, math, blocks);
        }
        start = null; end = null; last = null; braces = 0;
      } else if (block === "{") {
        braces++;
      } else if (block === "}" && braces) {
        braces--;
      }
    } else if (block === INLINE || block === "$$") {
      start = i; end = block; braces = 0;
    } else if (block === "\\\\(" || block === "\\\\[") {
      start = i; end = block.slice(-1) === "(" ? "\\\\)" : "\\\\]"; braces = 0;
    } else if (block.substr(1, 5) === "begin") {
      start = i; end = `\\end${block.substr(6)}`; braces = 0;
    }
  }
  if (start !== null && last !== null) blocks = processMath(start, last, deTilde, math, blocks);
  return { text: deTilde(blocks.join("")), math };
}

/** JupyterLab's replaceMath: the placeholders back as text (\\( and \\[ lose a backslash). */
export function replaceMath(text, math) {
  return text.replace(/@@(\d+)@@/g, (all, n) => {
    let group = math[n];
    if (group === undefined) return all;
    if (group.startsWith("\\\\(") && group.endsWith("\\\\)")) group = `\\(${group.slice(3, -3)}\\)`;
    else if (group.startsWith("\\\\[") && group.endsWith("\\\\]")) group = `\\[${group.slice(3, -3)}\\]`;
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

function purify() {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
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
// A relative one (images/pic.png, attachment:x.png) is a file beside the notebook, which
// this server does not serve: its alt text stands in for it.
const SHOWN_IMAGE = /^(https?:|data:image\/|blob:|\/)/i;

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
const mdCache = new Map(); // source -> sanitised HTML, when it holds no math still to typeset

/** Markdown to sanitised HTML (a string: Markdown cells set it as innerHTML). Math is
 * typeset in it when KaTeX is loaded; otherwise KaTeX is loaded, and the page's math
 * typeset once it is there. */
export function renderMarkdown(src) {
  const cached = mdCache.get(src);
  if (cached !== undefined) return cached;
  const body = purify().sanitize(markdownToHtml(src), { ...BASE, RETURN_DOM: true });
  finish(body);
  if (mathModule) typesetNow(body);
  const html = body.innerHTML;
  if (body.querySelector(PENDING)) {
    typesetDocumentSoon();
  } else {
    if (mdCache.size > 500) mdCache.clear();
    mdCache.set(src, html);
  }
  return html;
}
