// The nesting limit of events. JSON.parse is iterative in V8 (a 1,000,000-level body parses), but
// JSON.stringify, stableStringify, zod and the DynamoDB marshaller recurse: on Lambda's default stack a
// 10 KB event nested 5,000 levels overflowed them and sank its whole batch. So depth is measured here,
// without recursion, before anything recursive touches a client's value.

/**
 * Objects and arrays may nest at most this many levels in an event, the event itself being level 1
 * (`properties` is level 2). Why 24: code downstream still recurses over accepted values (zod,
 * JSON.stringify, stableStringify, the DynamoDB marshaller), so the bound keeps their stack use small on
 * Lambda's default stack; items that still nest a client's value (not the partial profiles, stored as
 * one JSON string in profilesTable.ts) must stay within DynamoDB's 32 levels with their own wrapping;
 * and real payloads (Segment's deepest spec fields, `properties.products[i].…`) use four or five, so 24
 * is ample headroom.
 */
export const MAX_EVENT_DEPTH = 24;

/** What a cut copy holds in place of a container past the limit. */
export const CUT_MARKER = '[nested too deep: cut]';

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object';

interface Frame {
  readonly value: Container;
  readonly depth: number;
  readonly key: string | number | undefined;
  readonly parent: Frame | undefined;
}

/**
 * The path (keys and indexes) of the first container nested deeper than `limit` levels in `value`, or
 * undefined when it nests within the limit. Iterative, and it stops at the first container past the
 * limit, so a 100,000-level value costs `limit` steps, not 100,000.
 */
export function tooDeepAt(value: unknown, limit: number): (string | number)[] | undefined {
  if (!isContainer(value)) return undefined;
  const stack: Frame[] = [{ value, depth: 1, key: undefined, parent: undefined }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.depth > limit) return pathOf(frame);
    pushChildren(frame, stack);
  }
  return undefined;
}

/** The containers directly inside a frame's value, as frames one level deeper. */
function pushChildren(frame: Frame, stack: Frame[]): void {
  const { value: node, depth } = frame;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (isContainer(child)) stack.push({ value: child, depth: depth + 1, key: i, parent: frame });
    }
    return;
  }
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (isContainer(child)) stack.push({ value: child, depth: depth + 1, key, parent: frame });
  }
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) path.push(f.key);
  return path.reverse();
}

/**
 * A copy of `value` in which every container past `limit` levels is replaced by CUT_MARKER: what the
 * quarantine keeps of an event nested too deep (the original cannot even be serialized). Iterative.
 */
export function cutAtDepth(value: unknown, limit: number): unknown {
  if (!isContainer(value)) return value;
  const copyOf = (v: Container): Container => (Array.isArray(v) ? [] : {});
  const root = copyOf(value);
  const stack: { from: Container; to: Container; depth: number }[] = [{ from: value, to: root, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { from, to, depth } = item;
    for (const [key, child] of Object.entries(from)) {
      let out: unknown = child;
      if (isContainer(child)) {
        if (depth + 1 > limit) out = CUT_MARKER;
        else {
          out = copyOf(child);
          stack.push({ from: child, to: out as Container, depth: depth + 1 });
        }
      }
      if (Array.isArray(to)) to[Number(key)] = out;
      // defineProperty: a `__proto__` key stays a key of the copy, as JSON.parse made it.
      else
        Object.defineProperty(to, key, { value: out, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}
