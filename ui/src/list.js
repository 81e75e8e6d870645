// The notebook list page: open, create, rename and delete notebooks.
import { encodePath, renameTarget, request as api, token } from "./api.js";

// The token rides along (a link opened in another browser profile still works); the
// notebook page keeps it (api.js) and removes it from the address bar.
function notebookUrl(path) {
  return `/notebooks/${encodePath(path)}?token=${encodeURIComponent(token)}`;
}

function show(message, isError = false) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = isError ? "error" : "muted";
}

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function button(text, label, className, onclick) {
  const node = element("button", { type: "button", textContent: text, className, onclick });
  node.setAttribute("aria-label", label);
  return node;
}

// One row: the link, when it changed, and Rename / Delete. Rename and the delete
// confirmation happen inline, in the row, so the keyboard never leaves the list.
function notebookRow(nb, kernelId) {
  const item = element("li");
  item.dataset.path = nb.path;
  const name = element("a", { href: notebookUrl(nb.path), className: "nb-link", textContent: nb.path });
  const when = element("span", { className: "muted",
    textContent: new Date(nb.last_modified).toLocaleString() });
  const shutDown = async () => {
    try {
      await api(`/api/kernels/${encodeURIComponent(kernelId)}`, { method: "DELETE" });
      show(`Shut down the kernel of ${nb.path}`);
    } catch (error) {
      show(`Cannot shut down the kernel: ${error.message}`, true);
    }
    refresh();
  };
  let renameButton = null;
  let deleteButton = null;
  const showRow = () => {
    const running = kernelId
      ? [element("span", { className: "running", textContent: "running" }),
        button("Shut down", `Shut down the kernel of ${nb.path}`, "secondary", shutDown)]
      : [];
    renameButton = button("Rename", `Rename ${nb.path}`, "secondary", startRename);
    deleteButton = button("Delete", `Delete ${nb.path}`, "secondary danger", askDelete);
    const actions = element("span", { className: "actions" }, ...running, renameButton, deleteButton);
    item.replaceChildren(name, element("span", { className: "meta" }, when, actions));
  };
  const startRename = () => {
    const input = element("input", { type: "text", value: nb.path, className: "rename-input",
      spellcheck: false });
    input.setAttribute("aria-label", `New name for ${nb.path}`);
    const form = element("form", { className: "rename-form" }, input,
      button("Save", `Save the new name of ${nb.path}`, "", null),
      button("Cancel", `Cancel renaming ${nb.path}`, "secondary", () => { showRow(); renameButton.focus(); }));
    form.querySelector("button").type = "submit";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      rename(nb.path, input.value, input);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { showRow(); renameButton.focus(); }
    });
    item.replaceChildren(form);
    input.focus();
    input.setSelectionRange(0, nb.path.replace(/\.ipynb$/, "").length);
  };
  const askDelete = () => {
    const prompt = element("span", { className: "confirm", textContent: `Delete ${nb.path}?` });
    const yes = button("Delete", `Yes, delete ${nb.path}`, "danger", () => remove(nb.path));
    const no = button("Cancel", `Cancel, keep ${nb.path}`, "secondary", () => {
      showRow(); deleteButton.focus();
    });
    item.replaceChildren(name, element("span", { className: "meta" }, prompt, yes, no));
    no.focus();
  };
  showRow();
  return item;
}

async function rename(path, wanted, input) {
  const target = renameTarget(path, wanted);
  if (!target) { await refresh(); return; }
  try {
    const model = await api(`/api/notebooks/${encodePath(path)}`, {
      method: "PATCH", body: JSON.stringify({ path: target }) });
    show(`Renamed ${path} to ${model.path}`);
    await refresh();
    const link = [...document.querySelectorAll("#list a.nb-link")].find((a) => a.textContent === model.path);
    if (link) link.focus();
  } catch (error) {
    show(`Cannot rename ${path}: ${error.message}`, true);
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

async function remove(path) {
  try {
    await api(`/api/notebooks/${encodePath(path)}`, { method: "DELETE" });
    show(`Deleted ${path}`);
  } catch (error) {
    show(`Cannot delete ${path}: ${error.message}`, true);
  }
  await refresh();
  const first = document.querySelector("#list a.nb-link") || document.getElementById("new");
  first.focus();
}

async function refresh() {
  const list = document.getElementById("list");
  try {
    const [{ notebooks }, kernels] = await Promise.all([api("/api/notebooks"), api("/api/kernels")]);
    const running = new Map(kernels.filter((k) => k.notebook).map((k) => [k.notebook, k.id]));
    list.replaceChildren();
    if (!notebooks.length) {
      const item = document.createElement("li");
      item.className = "muted";
      item.textContent = "No notebooks yet.";
      list.append(item);
    }
    for (const nb of notebooks) list.append(notebookRow(nb, running.get(nb.path)));
  } catch (error) {
    list.replaceChildren();
    show(`Cannot list notebooks: ${error.message}`, true);
  }
}

document.getElementById("new").addEventListener("click", async () => {
  try {
    const model = await api("/api/notebooks", { method: "POST", body: "{}" });
    show(`Created ${model.path}`);
    location.href = notebookUrl(model.path);
  } catch (error) {
    show(`Cannot create a notebook: ${error.message}`, true);
  }
});

// Upload: each .ipynb file is saved under its name (or "name (1).ipynb"... if taken).
const picker = document.getElementById("upload-file");
document.getElementById("upload").addEventListener("click", () => picker.click());
picker.addEventListener("change", async () => {
  const files = [...picker.files];
  picker.value = "";
  for (const file of files) {
    let notebook;
    try {
      notebook = JSON.parse(await file.text());
    } catch {
      show(`${file.name} is not a notebook (not JSON)`, true);
      continue;
    }
    const stem = file.name.replace(/\.ipynb$/i, "").replace(/[\\/]/g, "_") || "Uploaded";
    for (let n = 0; n < 50; n += 1) {
      const path = n ? `${stem} (${n}).ipynb` : `${stem}.ipynb`;
      try {
        await api(`/api/notebooks/${encodePath(path)}`, {
          method: "PUT", body: JSON.stringify({ notebook, version: null }) });
        show(`Uploaded ${path}`);
        break;
      } catch (error) {
        if (error.status === 409) continue;
        show(`Cannot upload ${file.name}: ${error.message}`, true);
        break;
      }
    }
  }
  refresh();
});

refresh();
