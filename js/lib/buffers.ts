/**
 * A numeric array as it crosses the comm: Python's `pack_float32` sends
 * `{view, dtype, shape}`, and ipywidgets turns the binary `view` into a `DataView`.
 */
export interface PackedArray {
  view: DataView | ArrayBuffer | Uint8Array;
  dtype: string;
  shape: number[];
}

/**
 * Decodes a packed little-endian float32 array. This is the one place arrays from Python are
 * decoded; everything else takes the `Float32Array` it returns.
 *
 * The result is a copy: the comm's buffer may be shared or unaligned for a `Float32Array`.
 *
 * @throws Error when the dtype is not float32, the shape is not a list of sizes, or the byte
 *   length does not match the shape (a JSON list instead of bytes among them).
 */
export function decodeFloat32(packed: PackedArray): Float32Array {
  const length = checkedLength(packed, "float32", "a float32 array");
  const bytes = asDataView(packed.view);
  if (bytes.byteLength !== length * 4) {
    throw new Error(
      `${bytes.byteLength} bytes do not hold float32 of shape [${packed.shape.join(", ")}] ` +
        `(${length * 4} bytes expected)`,
    );
  }
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = bytes.getFloat32(4 * i, true);
  return values;
}

/**
 * Decodes texts packed by Python's `pack_strings`: UTF-8 with a NUL between texts (the kernel
 * turns any NUL inside a text into U+FFFD first, so it only ever separates).
 *
 * @throws Error when the dtype is not utf8-nul, the view is not binary, or the number of texts
 *   does not match the shape.
 */
export function decodeStrings(packed: PackedArray): string[] {
  const count = checkedLength(packed, "utf8-nul", "texts packed as utf8-nul");
  if (packed.shape.length !== 1) throw new Error(`expected texts of shape [n], got [${packed.shape.join(", ")}]`);
  const bytes = asDataView(packed.view);
  const texts = count === 0 ? [] : new TextDecoder().decode(bytes).split("\0");
  if (texts.length !== count) {
    throw new Error(`${texts.length} texts in a value of shape ${JSON.stringify(packed.shape)}`);
  }
  return texts;
}

/** How many values a packed array holds, once its dtype and shape are checked. */
function checkedLength(packed: PackedArray, dtype: string, what: string): number {
  if (packed.dtype !== dtype) throw new Error(`expected ${what}, got dtype ${JSON.stringify(packed.dtype)}`);
  const { shape } = packed;
  if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`expected a shape of sizes like [n], got ${JSON.stringify(shape)}`);
  }
  return shape.reduce((n, size) => n * size, 1);
}

/** Whether a trait holds a packed array at all: Python leaves an unset one as `{}`. */
export function isPacked(value: PackedArray | Record<string, never> | undefined): value is PackedArray {
  return value !== undefined && "view" in value;
}

function asDataView(view: unknown): DataView {
  // isView and the tag, not instanceof: buffers made in another realm (an iframe, Node) pass too.
  if (ArrayBuffer.isView(view)) return new DataView(view.buffer, view.byteOffset, view.byteLength);
  if (Object.prototype.toString.call(view) === "[object ArrayBuffer]") return new DataView(view as ArrayBuffer);
  throw new Error(
    `expected the array as binary (DataView, ArrayBuffer or Uint8Array), got ${describe(view)}: ` +
      "pack it in Python with pack_float32 or pack_strings so that it travels as a buffer",
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a JSON list";
  if (typeof value !== "object") return typeof value;
  return (value as { constructor?: { name?: string } }).constructor?.name ?? "an object";
}
