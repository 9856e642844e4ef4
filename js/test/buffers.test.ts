import { describe, expect, it } from "vitest";
import { decodeFloat32, decodeStrings } from "../lib/buffers";

// What Python's pack_float32([1.0, -2.0, 0.5]) sends: little-endian float32.
const BYTES = [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f];

describe("decodeFloat32", () => {
  it("decodes the DataView that anywidget hands over", () => {
    const view = new DataView(new Uint8Array(BYTES).buffer);
    expect(Array.from(decodeFloat32({ view, dtype: "float32", shape: [3] }))).toEqual([1, -2, 0.5]);
  });

  it("decodes an ArrayBuffer and a Uint8Array", () => {
    const buffer = new Uint8Array(BYTES).buffer;
    expect(Array.from(decodeFloat32({ view: buffer, dtype: "float32", shape: [3] }))).toEqual([1, -2, 0.5]);
    expect(Array.from(decodeFloat32({ view: new Uint8Array(BYTES), dtype: "float32", shape: [3] }))).toEqual([
      1, -2, 0.5,
    ]);
  });

  it("reads a view at an unaligned offset into a larger buffer", () => {
    const backing = new Uint8Array([0xff, ...BYTES, 0xff]);
    const view = new DataView(backing.buffer, 1, BYTES.length);
    const values = decodeFloat32({ view, dtype: "float32", shape: [3] });
    expect(Array.from(values)).toEqual([1, -2, 0.5]);
    // A copy: later writes to the comm's buffer do not change decoded scores.
    backing.fill(0);
    expect(values[0]).toBe(1);
  });

  it("decodes an empty array", () => {
    expect(decodeFloat32({ view: new DataView(new ArrayBuffer(0)), dtype: "float32", shape: [0] })).toHaveLength(0);
  });

  it("takes the length from the whole shape", () => {
    const view = new DataView(new Uint8Array([...BYTES, ...BYTES]).buffer, 0, 24);
    expect(decodeFloat32({ view, dtype: "float32", shape: [2, 3] })).toHaveLength(6);
  });

  it("refuses a dtype other than float32", () => {
    const view = new DataView(new Uint8Array(BYTES).buffer);
    expect(() => decodeFloat32({ view, dtype: "float64", shape: [3] })).toThrow(
      'expected a float32 array, got dtype "float64"',
    );
    expect(() => decodeFloat32({ view, dtype: "int32", shape: [3] })).toThrow("got dtype \"int32\"");
  });

  it("refuses a byte length that does not match the shape", () => {
    const view = new DataView(new Uint8Array(BYTES).buffer);
    expect(() => decodeFloat32({ view, dtype: "float32", shape: [4] })).toThrow(
      "12 bytes do not hold float32 of shape [4] (16 bytes expected)",
    );
    expect(() => decodeFloat32({ view, dtype: "float32", shape: [2] })).toThrow("12 bytes");
  });

  it("refuses a bad shape", () => {
    const view = new DataView(new Uint8Array(BYTES).buffer);
    expect(() => decodeFloat32({ view, dtype: "float32", shape: [-3] })).toThrow("expected a shape of sizes");
    expect(() => decodeFloat32({ view, dtype: "float32", shape: [1.5] })).toThrow("expected a shape of sizes");
  });

  it("refuses scores sent as a JSON list, naming the fix", () => {
    const packed = { view: [1, -2, 0.5], dtype: "float32", shape: [3] } as unknown as Parameters<
      typeof decodeFloat32
    >[0];
    expect(() => decodeFloat32(packed)).toThrow(/got a JSON list: pack it in Python with pack_float32/);
  });
});

describe("decodeStrings", () => {
  const packed = (text: string, count: number) => ({
    view: new DataView(new TextEncoder().encode(text).buffer),
    dtype: "utf8-nul",
    shape: [count],
  });

  it("splits UTF-8 at each NUL, keeping empty texts and non-ASCII", () => {
    expect(decodeStrings(packed("2\0 +\0\0é\u{1F600}", 4))).toEqual(["2", " +", "", "é\u{1F600}"]);
    expect(decodeStrings(packed("", 1))).toEqual([""]);
    expect(decodeStrings(packed("", 0))).toEqual([]);
  });

  it("refuses another dtype, a count that does not match, and a JSON list", () => {
    expect(() => decodeStrings({ ...packed("a", 1), dtype: "float32" })).toThrow("expected texts packed as utf8-nul");
    expect(() => decodeStrings(packed("a\0b", 3))).toThrow("2 texts in a value of shape [3]");
    expect(() => decodeStrings({ ...packed("a", 1), shape: [] })).toThrow("expected texts of shape [n], got []");
    const list = { view: ["a"], dtype: "utf8-nul", shape: [1] } as unknown as Parameters<typeof decodeStrings>[0];
    expect(() => decodeStrings(list)).toThrow(/got a JSON list/);
  });
});
