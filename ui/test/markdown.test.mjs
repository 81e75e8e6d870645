// Markdown and math (ui/src/markdown.js): JupyterLab's math protection, then GFM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { latexToHtml, markdownToHtml, removeMath, replaceMath, splitMath } from "../src/markdown.js";

test("removeMath splits text and math as JupyterLab does", () => {
  assert.deepEqual(removeMath("hello, $ /alpha $, there"),
    { text: "hello, @@0@@, there", math: ["$ /alpha $"] });
  assert.deepEqual(removeMath("`$foo` and `$bar` are variables"),
    { text: "`$foo` and `$bar` are variables", math: [] });
  const { text, math } = removeMath("a $$x < y$$ b \\begin{equation}E=mc^2\\end{equation}");
  assert.equal(text, "a @@0@@ b @@1@@");
  assert.deepEqual(math, ["$$x &lt; y$$", "\\begin{equation}E=mc^2\\end{equation}"]);
  // Math does not run across a paragraph break; a literal placeholder survives.
  assert.deepEqual(removeMath("costs $5\n\nand $6").math, []);
  const literal = removeMath("see @@0@@ and $x$");
  assert.equal(replaceMath(literal.text, literal.math), "see @@0@@ and $x$");
  assert.equal(replaceMath(...Object.values(removeMath("\\\\(a\\\\)"))), "\\(a\\)");
});

test("math is protected from Markdown: no emphasis inside it", () => {
  const html = markdownToHtml("$a_1 * b_2$ and $c_1 * d_2$ but *em*");
  assert.match(html, /<span class="rk-math">\$a_1 \* b_2\$<\/span>/);
  assert.match(html, /<span class="rk-math">\$c_1 \* d_2\$<\/span>/);
  assert.equal((html.match(/<em>/g) || []).length, 1);
  assert.match(markdownToHtml("$$\n\\frac{1}{2}\n$$"), /<span class="rk-math">\$\$\n\\frac\{1\}\{2\}\n\$\$<\/span>/);
  assert.match(markdownToHtml("\\begin{equation}\nx_1 = y_2\n\\end{equation}"),
    /<span class="rk-math">\\begin\{equation\}\nx_1 = y_2\n\\end\{equation\}<\/span>/);
  // Dollars in code stay code.
  const code = markdownToHtml("`$x$` and\n\n```\n$y$\n```");
  assert.ok(!code.includes("rk-math"), code);
  assert.match(code, /<code>\$x\$<\/code>/);
});

test("GFM: tables, nested lists, list numbering, setext, escapes, task lists, raw HTML", () => {
  assert.match(markdownToHtml("| a | b |\n|---|---|\n| 1 | 2 |"), /<table>[\s\S]*<th>a<\/th>[\s\S]*<td>2<\/td>/);
  assert.match(markdownToHtml("- x\n  - y\n- z"), /<li>x<ul>\s*<li>y<\/li>\s*<\/ul>\s*<\/li>/);
  assert.match(markdownToHtml("1. one\n2. two\n\ntext\n\n3. three"), /<ol start="3">/);
  assert.match(markdownToHtml("Title\n====="), /<h1>Title<\/h1>/);
  const escaped = markdownToHtml("\\*not italic\\*");
  assert.match(escaped, /\*not italic\*/);
  assert.ok(!escaped.includes("\\") && !escaped.includes("<em>"), escaped);
  assert.match(markdownToHtml("- [ ] todo\n- [x] done"), /<input (checked="" )?disabled="" type="checkbox">/);
  assert.match(markdownToHtml("<b>bold</b><br><img width=50 src=x>"), /<b>bold<\/b><br><img width=50 src=x>/);
  assert.match(markdownToHtml("<details><summary>S</summary>\n\nbody\n</details>"), /<details><summary>S<\/summary>/);
});

test("math in a link's title goes back as text, never as an element in a tag", () => {
  const html = markdownToHtml('[x](http://a.b "$\\" onclick=\\"x$")');
  assert.ok(!/<a[^>]*<span/.test(html), html);
});

test("text/latex: text escaped, math typeset", () => {
  assert.equal(latexToHtml("$\\frac{1}{2}$ <b>"), '<span class="rk-math">$\\frac{1}{2}$</span> &lt;b&gt;');
  assert.equal(latexToHtml("no math"), "no math");
});

test("splitMath finds the delimiters and display mode", () => {
  assert.deepEqual(splitMath("$x$"), { tex: "x", display: false });
  assert.deepEqual(splitMath("$$x$$"), { tex: "x", display: true });
  assert.deepEqual(splitMath("\\\\(x\\\\)"), { tex: "x", display: false });
  assert.deepEqual(splitMath("\\[x\\]"), { tex: "x", display: true });
  assert.deepEqual(splitMath("\\begin{align}a\\end{align}"), { tex: "\\begin{align}a\\end{align}", display: true });
  assert.equal(splitMath("@@3@@"), null);
});

test("attachment: URLs resolve to data: URLs of image attachments only", async () => {
  const { attachmentUrl } = await import("../src/markdown.js");
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
  const attachments = {
    "red.png": { "image/png": png },
    "my pic.png": { "image/png": [png.slice(0, 20), `${png.slice(20)}\n`] },
    "page.html": { "text/html": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==" },
    "icon.svg": { "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'/>" },
    "bad.png": { "image/png": "\"><script>" },
  };
  assert.equal(attachmentUrl(attachments, "attachment:red.png"), `data:image/png;base64,${png}`);
  assert.equal(attachmentUrl(attachments, "attachment:my%20pic.png"), `data:image/png;base64,${png}`);
  assert.equal(attachmentUrl(attachments, "attachment:page.html"), null);  // not an image
  assert.match(attachmentUrl(attachments, "attachment:icon.svg"), /^data:image\/svg\+xml,%3Csvg/);
  assert.equal(attachmentUrl(attachments, "attachment:bad.png"), null);  // not base64
  assert.equal(attachmentUrl(attachments, "attachment:missing.png"), null);
  assert.equal(attachmentUrl(attachments, "attachment:toString"), null);
  assert.equal(attachmentUrl(attachments, "red.png"), null);
  assert.equal(attachmentUrl(null, "attachment:red.png"), null);
});
