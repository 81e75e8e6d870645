// Notebook list: the token comes from the URL the server printed.
"use strict";
const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("rk-token") || "";
if (token) sessionStorage.setItem("rk-token", token);

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Authorization": `token ${token}`, "Content-Type": "application/json" },
  });
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(body && body.message ? body.message : response.statusText);
  return body;
}

// The token rides along so a link opened in a new tab still works; the notebook
// page moves it to sessionStorage and removes it from the address bar.
function notebookUrl(path) {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `/notebooks/${encoded}?token=${encodeURIComponent(token)}`;
}

function show(message, isError = false) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = isError ? "error" : "muted";
}

async function refresh() {
  const list = document.getElementById("list");
  try {
    const { notebooks } = await api("/api/notebooks");
    list.replaceChildren();
    if (!notebooks.length) {
      const item = document.createElement("li");
      item.className = "muted";
      item.textContent = "No notebooks yet.";
      list.append(item);
    }
    for (const nb of notebooks) {
      const item = document.createElement("li");
      const name = document.createElement("a");
      name.href = notebookUrl(nb.path);
      name.className = "nb-link";
      name.textContent = nb.path;
      const when = document.createElement("span");
      when.className = "muted";
      when.textContent = new Date(nb.last_modified).toLocaleString();
      item.append(name, when);
      list.append(item);
    }
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

refresh();
