// CoDreamer's web app: plain JS modules, no build. Every text that comes from a dream is
// untrusted and reaches the page through textContent only (the `el` helper in dom.js), never
// innerHTML.
//
// This module routes by the URL's fragment and starts the page: #/ (new dream), #/library,
// #/graphs/{id}?node={nodeId}, #/compare/{id1}/{id2}.

import { openCompare } from "./compare.js";
import { $ } from "./dom.js";
import { openGraph, showDream, startDreamPage } from "./dream-page.js";
import { startEvaluation } from "./evaluation.js";
import { loadLibrary, startLibrary } from "./library.js";
import { startNewDream } from "./new-dream.js";
import { selectNode } from "./node-detail.js";
import { state } from "./state.js";

/** A URL part decoded; as it is when it is not valid percent-encoding. */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  const params = new URLSearchParams(search);
  const graph = path.match(/^\/graphs\/(.+)$/);
  const compare = path.match(/^\/compare\/([^/]+)\/([^/]+)$/);
  const view = graph ? "graph" : compare ? "compare" : path === "/library" ? "library" : "new";
  $("view-new").hidden = view !== "new";
  $("view-library").hidden = view !== "library";
  $("view-compare").hidden = view !== "compare";
  const fromForm = state.running !== null || (state.dream !== null && state.dream.fromForm === true);
  $("dream").hidden = !(view === "graph" || (view === "new" && fromForm));
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view === "graph") openGraph(decoded(graph[1]), params.get("node"));
  else if (view === "library") loadLibrary();
  else if (view === "compare") openCompare(decoded(compare[1]), decoded(compare[2]));
}

function start() {
  startNewDream();
  startLibrary();
  startEvaluation();
  startDreamPage();
  window.addEventListener("hashchange", route);
  route();
  window.codreamerApp = {
    selectNode,
    showDream,
    get network() {
      return state.network;
    },
    get dream() {
      return state.dream;
    },
  };
}

start();
