// The page's building blocks. Every text that comes from a dream is untrusted and reaches the
// page through textContent only (the `el` helper below), never innerHTML.

export const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes, never markup). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") element.textContent = String(value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

export function setText(id, value) {
  $(id).textContent = value === null || value === undefined ? "" : String(value);
}

/** Whether the page is phone-narrow (the graph then runs top-down, with shorter labels). */
export function narrow() {
  return window.matchMedia("(max-width: 760px)").matches;
}

/** <dt>/<dd> pairs of the [name, value] rows that have a value. */
export function definitionRows(rows) {
  return rows
    .filter(([, value]) => value !== undefined && value !== null)
    .flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value) })]);
}

/** A titled list of texts ("None." when there are none). */
export function textList(title, items, testId, heading = "h3") {
  const list = Array.isArray(items) ? items : [];
  return el(
    "div",
    { class: "eval-list" },
    el(heading, { text: title }),
    list.length
      ? el("ul", { "data-testid": testId }, ...list.map((item) => el("li", { text: String(item) })))
      : el("p", { class: "muted", text: "None." }),
  );
}
