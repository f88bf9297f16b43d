// Numbers and texts written for people.

export function short(text, size = 36) {
  return text.length > size ? `${text.slice(0, size - 1)}…` : text;
}

export function formatCost(cost) {
  return typeof cost === "number" ? `$${cost.toFixed(4)}` : "unknown";
}

/** A value of an evaluation's figures: two decimals, yes/no, "n/a" for none. */
export function figure(value) {
  if (value === null || value === undefined) return "n/a";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === "boolean") return value ? "yes" : "no";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** A change with its sign: +0.10, −0.10, ±0.00. */
export function signed(value, digits) {
  return `${value > 0 ? "+" : value < 0 ? "−" : "±"}${Math.abs(value).toFixed(digits)}`;
}
