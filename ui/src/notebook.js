// The notebook page's entry point: the toolbar, and start-up.  Its modules, around one
// store (store.js: the state S, REST calls, notices):
//   cellstate.js  the kernel's cell states, one pure transition function (node tests)
//   messages.js   the kernel's messages: outputs, cascades, cell states, catching up
//   cells.js      drawing cells, outputs and badges; the notebook order; the graph panel
//   edits.js      selection, modes and cell operations
//   run.js        running cells, Auto / Lazy, Run stale
//   lifecycle.js  the connection and the kernel: states, restarts, a kernel gone
//   saving.js     saving, autosave, conflicts
//   keys.js       keyboard commands
//   widgets.js    Jupyter widgets: their comms, views and saved state (the manager,
//                 widgetmanager.js, is a bundle of its own, loaded on first use)
// and leaves without state: api.js (token, REST), kernel.js (the WebSocket, Jupyter
// protocol), render.js (outputs), editor.js (CodeMirror), graph.js (graph layout).
import { indexOf, setGraphOpen } from "./cells.js";
import { clearAllOutputs, editMode, insertCell, selectCell } from "./edits.js";
import { confirmRestart, showShortcuts } from "./keys.js";
import { interruptKernel, openKernel } from "./lifecycle.js";
import { showPath } from "./messages.js";
import { runAll, runAndMaybeAdvance, runStale, setMode } from "./run.js";
import { download, loadModel, save } from "./saving.js";
import { TOKEN_HELP, encodePath, renameTarget } from "./api.js";
import { el } from "./render.js";
import { $, S, api, nbUrl, setBanner, toast } from "./store.js";

// ---- toolbar ---------------------------------------------------------------------------------------------
function wireToolbar() {
  $("add-code").onclick = () => insertCell(S.active ? indexOf(S.active) + 1 : S.cells.length, "code", true);
  $("add-md").onclick = () => insertCell(S.active ? indexOf(S.active) + 1 : S.cells.length, "markdown", true);
  $("run-cell").onclick = () => S.active && runAndMaybeAdvance(S.active, true, false);
  $("run-all").onclick = () => runAll();
  $("run-stale").onclick = () => runStale();
  $("clear-all").onclick = () => clearAllOutputs();
  $("save").onclick = () => save();
  $("download").onclick = () => download();
  $("interrupt").onclick = () => interruptKernel();
  $("restart").onclick = () => confirmRestart(false);
  $("restart-run").onclick = () => confirmRestart(true);
  $("show-shortcuts").onclick = () => showShortcuts();
  const shortcuts = $("shortcuts");
  shortcuts.querySelector("[data-close]").onclick = () => shortcuts.close();
  shortcuts.addEventListener("click", (e) => { if (e.target === shortcuts) shortcuts.close(); });
  shortcuts.addEventListener("close", () => { if (S.active) S.active.el.focus(); });
  $("mode-switch").onclick = () => setMode(S.mode === "lazy" ? "auto" : "lazy");
  // After a toolbar button, the keys go to the notebook again (command mode), as in
  // JupyterLab: B, A, D,D... act on the selected cell, not on the button.
  document.querySelector(".rk-toolbar").addEventListener("click", () => {
    const focused = document.activeElement;
    if (S.active && focused && focused.closest && focused.closest(".rk-toolbar")) {
      S.active.el.focus({ preventScroll: true });
    }
  });
  $("toggle-graph").onclick = () => setGraphOpen(!S.graphOpen);
  $("close-graph").onclick = () => setGraphOpen(false);
  $("conn-state").onclick = () => S.conn && !S.conn.open && S.conn.reconnectNow();
  showPath();
  $("home-link").href = "/";
  $("nb-title").onclick = () => renameFromTitle();
  $("nb-title").title = "Rename the notebook";
}

// ---- rename: the title becomes a field (Enter renames, Escape or leaving cancels) -----
function renameFromTitle() {
  const title = $("nb-title");
  if (title.hidden) return;
  const field = el("input", { type: "text", class: "rk-title-field", value: S.path,
    "aria-label": "New name of the notebook", spellcheck: "false" });
  let done = false;
  const finish = async (rename) => {
    if (done) return;
    done = true;
    const target = renameTarget(S.path, field.value);
    if (rename && target) {
      try {
        const model = await api(nbUrl(), { method: "PATCH", body: JSON.stringify({ path: target }) });
        S.path = model.path;
        S.version = model.version;
        history.replaceState(null, "", `/notebooks/${encodePath(S.path)}${location.hash}`);
        showPath();
      } catch (error) {
        toast(`Cannot rename to ${target}: ${error.message}`, "error", 6000);
      }
    }
    field.remove();
    title.hidden = false;
  };
  field.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter") { e.preventDefault(); finish(true); }
    else if (e.key === "Escape") { e.preventDefault(); finish(false); }
  });
  field.addEventListener("blur", () => finish(false));
  title.hidden = true;
  title.after(field);
  field.focus();
  field.setSelectionRange(0, S.path.replace(/\.ipynb$/, "").length);
}

// ---- start -------------------------------------------------------------------------------------------
async function start() {
  wireToolbar();
  setGraphOpen(S.graphOpen);
  try {
    const model = await api(nbUrl());
    loadModel(model, false);
    // Keys work at once: a new notebook's empty cell takes typing, as in JupyterLab;
    // otherwise the first cell is selected in command mode.
    const first = S.cells[0];
    if (S.cells.length === 1 && first.type === "code" && !first.source) editMode(first);
    else selectCell(first, true);
  } catch (error) {
    setBanner("error", `Cannot open ${S.path}: ${error.status === 403 && /token/.test(error.message) ? TOKEN_HELP : error.message}`);
    return;
  }
  try {
    await openKernel();
  } catch (error) {
    setBanner("error", `Cannot start the kernel: ${error.message}`,
      [["Retry", () => location.reload(), true]]);
    return;
  }
  document.body.dataset.ready = "1";
}

start();
