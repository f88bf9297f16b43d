// What the page's modules share and change: one object, so that every module reads the
// value another one set (an imported `let` binding cannot be reassigned by its importer).

export const state = {
  /** {id, nodes, byId, parents, metadata, ...} of the dream shown; null while none is. */
  dream: null,
  /** The vis.Network drawing the graph; null before the first drawing. */
  network: null,
  /** The AbortController of the dream being streamed from the form; null when none runs. */
  running: null,
};
