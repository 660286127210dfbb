// Parsing JSON that may not be JSON (a damaged stored object, a proxy's HTML error page): undefined then,
// for the caller's schema to refuse, instead of an exception.
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
