// Keyboard commands (command mode), dialogs, page lifecycle events.
import { indexOf } from "./cells.js";
import { copyCell, cutCell, deleteCell, editMode, insertCell, mergeBelow, pasteCell, selectCell, setType, toggleOutputs, undoDelete } from "./edits.js";
import { interruptKernel, restartKernel } from "./lifecycle.js";
import { closeStateComm, openStateComm } from "./messages.js";
import { runAndMaybeAdvance, runCell } from "./run.js";
import { save } from "./saving.js";
import { $, S } from "./store.js";

// ---- keyboard (command mode) ----------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === "s") {
    // An editor's own Mod-s saved already (and prevented the default).
    if (!e.defaultPrevented) { e.preventDefault(); save(); }
    return;
  }
  const target = e.target;
  if (!(target instanceof Element)) return;
  if (target.closest(".cm-editor, input, textarea, select, [contenteditable]")) return;
  const cellEl = target.closest(".rk-cell");
  if (!cellEl || target !== cellEl) return; // buttons and the graph keep their own keys
  const cell = S.byId.get(cellEl.dataset.cellId);
  if (!cell) return;
  const i = indexOf(cell);
  const key = e.key;
  if (e.repeat && "dDxXzZvV".includes(key)) { e.preventDefault(); return; }  // held down
  if (!"dDiI0".includes(key) || key === "") lastPress = { key: null, at: 0 };
  if (key === "Enter" && e.shiftKey) { e.preventDefault(); runAndMaybeAdvance(cell, true, false); }
  else if (key === "Enter" && mod) { e.preventDefault(); runCell(cell); }
  else if (key === "Enter" && e.altKey) { e.preventDefault(); runAndMaybeAdvance(cell, "insert", false); }
  else if (key === "Enter") { e.preventDefault(); editMode(cell); }
  else if (mod || e.altKey) return;
  else if (key === "a" || key === "A") { e.preventDefault(); insertCell(i, "code", false); }
  else if (key === "b" || key === "B") { e.preventDefault(); insertCell(i + 1, "code", false); }
  else if (key === "M") { e.preventDefault(); mergeBelow(cell); }
  else if (key === "m") { e.preventDefault(); setType(cell, "markdown"); }
  else if (key === "y" || key === "Y") { e.preventDefault(); setType(cell, "code"); }
  else if (key === "c" || key === "C") { e.preventDefault(); copyCell(cell); }
  else if (key === "x" || key === "X") { e.preventDefault(); cutCell(cell); }
  else if (key === "v") { e.preventDefault(); pasteCell(i + 1); }
  else if (key === "V") { e.preventDefault(); pasteCell(i); }
  else if (key === "z" || key === "Z") { e.preventDefault(); undoDelete(); }
  else if (key === "o" || key === "O") { e.preventDefault(); toggleOutputs(cell); }
  else if (key === "h" || key === "H") { e.preventDefault(); showShortcuts(); }
  else if (key === "d" || key === "D") { e.preventDefault(); if (pressedTwice("d")) deleteCell(cell); }
  else if (key === "i" || key === "I") { e.preventDefault(); if (pressedTwice("i")) interruptKernel(); }
  else if (key === "0") { e.preventDefault(); if (pressedTwice("0")) confirmRestart(false); }
  else if (key === "ArrowDown" || key === "j") {
    e.preventDefault(); if (i < S.cells.length - 1) selectCell(S.cells[i + 1]);
  } else if (key === "ArrowUp" || key === "k") {
    e.preventDefault(); if (i > 0) selectCell(S.cells[i - 1]);
  }
});

/** D,D / I,I / 0,0: true on the second press of ``key`` within 800 ms. */
let lastPress = { key: null, at: 0 };
function pressedTwice(key) {
  const now = performance.now();
  const twice = lastPress.key === key && now - lastPress.at < 800;
  lastPress = twice ? { key: null, at: 0 } : { key, at: now };
  return twice;
}

export function confirmRestart(runAllAfter) {
  const question = runAllAfter ? "Restart the kernel and run every cell in dependency order?"
    : "Restart the kernel? Variables and the graph are forgotten.";
  if (confirm(question)) restartKernel(runAllAfter);
}

export function showShortcuts() {
  const dialog = $("shortcuts");
  if (!dialog.open) dialog.showModal();
}

window.addEventListener("beforeunload", (e) => {
  if (S.dirty) { e.preventDefault(); e.returnValue = ""; }
});
// A page that goes away closes its comm (a page shown again opens a new one).
window.addEventListener("pagehide", () => closeStateComm());
window.addEventListener("pageshow", (e) => { if (e.persisted) openStateComm(); });
