// The server's token and its REST calls, shared by the list page and the notebook page.
// The token comes from the URL the server printed; it is kept in sessionStorage so a
// reload, or a page whose address bar no longer carries it, still has it.
const params = new URLSearchParams(location.search);
export const token = params.get("token") || sessionStorage.getItem("rk-token") || "";
if (token) sessionStorage.setItem("rk-token", token);

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
