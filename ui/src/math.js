// KaTeX for the notebook page: a bundle of its own (static/build/math.js, with its CSS
// and fonts beside it), loaded by markdown.js the first time a page shows math.
import katex from "katex";
import "katex/dist/katex.min.css";
import { addStylesheet } from "./stylesheet.js";

export function addStyles() {
  addStylesheet("./math.css", import.meta.url);
}

/** TeX as KaTeX HTML; an error is shown in place (red source), never thrown. KaTeX's
 * `trust` stays off: no \href, \url, \includegraphics or \html* from a notebook. */
export function renderTex(tex, displayMode) {
  return katex.renderToString(tex, {
    displayMode, throwOnError: false, trust: false, strict: "ignore", output: "htmlAndMathml",
  });
}
