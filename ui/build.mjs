// Bundles the web UI (the notebook page: CodeMirror 6 + our modules; the list page)
// into server/static/build/.
// Run by `make ui` after `npm ci`; the output is gitignored.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "server", "static", "build");

await build({
  entryPoints: {
    notebook: path.join(here, "src", "notebook.js"),
    list: path.join(here, "src", "list.js"),
    // Loaded by the notebook page when a widget first appears (its CSS beside it).
    widgetmanager: path.join(here, "src", "widgetmanager.js"),
    // KaTeX (with its CSS and fonts), loaded by the notebook page when math first appears.
    math: path.join(here, "src", "math.js"),
  },
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: process.argv.includes("--dev") ? false : true,
  sourcemap: true,
  outdir,
  logLevel: "info",
  legalComments: "linked",
});
