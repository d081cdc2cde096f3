/** Values as text for error messages. */

/** A value as text, whatever it is (a Symbol, a Proxy, an object whose toString throws): never throws. Strings are quoted and cut at 200. */
export function show(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value.slice(0, 200)) : String(value);
  } catch {
    return typeof value;
  }
}
