"""A dream's outputs: exports, the HTML viewer, history, and its quality measures."""
