// API calls, with the API key asked for on the first 401.

import { $, setText } from "./dom.js";

const KEY_STORAGE = "codreamer.apiKey";

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

let keyRequest = null; // the prompt shown, shared by concurrent calls

/** Show the key form and resolve with the key typed in (one prompt for concurrent calls). */
function askForKey(refused) {
  setText("auth-message", refused ? "That API key was refused. Check it and try again." : "");
  $("auth").hidden = false;
  $("api-key").value = "";
  $("api-key").focus();
  if (!keyRequest) {
    keyRequest = new Promise((resolve) => {
      const form = $("auth-form");
      form.addEventListener(
        "submit",
        (event) => {
          event.preventDefault();
          const key = $("api-key").value.trim();
          sessionStorage.setItem(KEY_STORAGE, key);
          $("auth").hidden = true;
          keyRequest = null;
          resolve(key);
        },
        { once: true },
      );
    });
  }
  return keyRequest;
}

function authHeaders() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** fetch() with the stored key; on 401 asks for a key and tries again. */
export async function authorizedFetch(path, options = {}) {
  for (;;) {
    const response = await fetch(path, {
      ...options,
      headers: { ...(options.headers || {}), ...authHeaders() },
    });
    if (response.status !== 401) return response;
    const hadKey = sessionStorage.getItem(KEY_STORAGE) !== null;
    await askForKey(hadKey);
  }
}

/** The server's reason for a refused request, as one line. */
export async function detailOf(response) {
  try {
    const body = await response.json();
    const detail = body.detail ?? body;
    if (Array.isArray(detail)) {
      return detail.map((item) => `${(item.loc || []).slice(1).join(".")}: ${item.msg}`).join("; ");
    }
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  } catch {
    return response.statusText || `HTTP ${response.status}`;
  }
}

/** `response` when it is OK; else an ApiError with the server's reason. */
export async function okOrThrow(response) {
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  return response;
}

/** The JSON answer of an API call (ApiError when refused). */
export async function api(path, options = {}) {
  const response = await okOrThrow(await authorizedFetch(path, options));
  return response.json();
}

/** A query string of the params that have a value. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== undefined && value !== null) search.set(name, String(value));
  }
  return search.toString();
}
