// input() and getpass() in a cell: the kernel's input_request (stdin channel), answered
// from a box under the cell's outputs, as JupyterLab does.  The answer goes back as an
// input_reply whose parent is the request; the prompt and the answer stay in the
// cell's output (a password as dots).
import { el } from "./render.js";
import { S } from "./store.js";

/** Show the box for ``content`` ({prompt, password}) of the input_request ``header``
 * under ``cell``; ``answered(text)`` gets what to keep in the output. */
export function askInput(cell, content, header, answered) {
  closeInput(cell);
  const field = el("input", {
    class: "rk-stdin-field", type: content.password ? "password" : "text",
    "aria-label": content.prompt || "Input", autocomplete: "off", spellcheck: "false",
  });
  const box = el("div", { class: "rk-stdin" },
    el("span", { class: "rk-stdin-prompt", text: content.prompt || "" }), field);
  field.addEventListener("keydown", (e) => {
    e.stopPropagation();  // typing here is not a notebook command
    if (e.key !== "Enter") return;
    e.preventDefault();
    const value = field.value;
    if (!S.conn || !S.conn.reply("stdin", "input_reply", { value }, header)) return;
    const back = box.returnFocus;
    closeInput(cell);
    back();
    answered(`${content.prompt || ""}${content.password ? "·".repeat(8) : value}\n`);
  });
  cell.stdinEl = box;
  cell.outEl.after(box);
  const before = document.activeElement;  // Shift+Enter moved on: typing goes back there
  field.focus();
  box.returnFocus = () => { if (before && before.isConnected && before !== document.body) before.focus(); };
}

/** Remove the cell's box (answered, or the request is over: interrupted, restarted). */
export function closeInput(cell) {
  if (cell.stdinEl) cell.stdinEl.remove();
  cell.stdinEl = null;
}

/** Every open box, e.g. when the kernel restarts (the requests are gone). */
export function closeAllInputs() {
  for (const cell of S.cells) closeInput(cell);
}
