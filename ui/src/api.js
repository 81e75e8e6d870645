// The server's token and its REST calls, shared by the list page and the notebook page.
// The token comes from the URL the server printed; this browser keeps it (localStorage,
// for this origin only, as JupyterLab keeps its login cookie), so a reload, a new tab, a
// bookmark or a link without it still works.  A URL with a token replaces the kept one
// (a server restarted with a new token).
const params = new URLSearchParams(location.search);
export const token = params.get("token") || storedToken();
if (token) { try { localStorage.setItem("rk-token", token); } catch { /* private mode */ } }

function storedToken() {
  try { return localStorage.getItem("rk-token") || sessionStorage.getItem("rk-token") || ""; }
  catch { return ""; }
}

/** What to tell a user whose request was refused for its token. */
export const TOKEN_HELP = "this browser has no valid token for the server: open the address "
  + "reactive-server printed (it ends with ?token=...) once, and pages opened from then on "
  + "will have it";

/** The path a rename asks for, from what the user typed: trimmed, ".ipynb" added
 * when missing; null when it is empty or ``path`` itself (nothing to do). */
export function renameTarget(path, typed) {
  let target = typed.trim();
  if (target && !target.endsWith(".ipynb")) target += ".ipynb";
  return target && target !== path ? target : null;
}

/** A notebook path as URL path segments, each encoded. */
export const encodePath = (path) => path.split("/").map(encodeURIComponent).join("/");

/** A JSON REST call with the token; a non-2xx answer throws an Error carrying the
 * server's message, its ``status`` and its JSON ``body``. */
export async function request(path, options = {}, headers = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `token ${token}`, "Content-Type": "application/json", ...headers },
  });
  let body = null;
  if (response.status !== 204) {
    try { body = await response.json(); } catch { body = null; }
  }
  if (!response.ok) {
    const error = new Error(body && body.message ? body.message : response.statusText);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}
