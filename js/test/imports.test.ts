/// <reference types="vite/client" />
import { describe, expect, test } from "vitest";

/** The front end's modules import one another one way: no cycles, and `types.ts` a leaf. */

const SOURCES = import.meta.glob(["../*.ts", "../lib/*.ts"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;

/** Each module (as "steps.ts", "lib/route.ts") with the modules of ours it imports, types included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [path, source] of Object.entries(SOURCES)) {
    const name = path.replace(/^\.\.\//, "");
    const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/") + 1) : "";
    const targets = [...source.matchAll(/^(?:import|export)[^;]*?from "(\.{1,2}\/[^"]+)"/gms)].map(([, spec]) => {
      const resolved = new URL(spec, `file:///js/${dir}`).pathname.replace(/^\/js\//, "");
      return resolved.endsWith(".ts") || resolved.endsWith(".css") ? resolved : `${resolved}.ts`;
    });
    graph.set(name, targets.filter((target) => target.endsWith(".ts")));
  }
  return graph;
}

/** A cycle through `start`, as the modules on it, or null. */
function cycleFrom(graph: Map<string, string[]>, start: string): string[] | null {
  const walk = (node: string, path: string[]): string[] | null => {
    for (const next of graph.get(node) ?? []) {
      if (next === start) return [...path, next];
      if (!path.includes(next)) {
        const found = walk(next, [...path, next]);
        if (found !== null) return found;
      }
    }
    return null;
  };
  return walk(start, [start]);
}

describe("imports", () => {
  test("every module is found, with the modules it imports", () => {
    const graph = importGraph();
    expect(graph.get("steps.ts")).toContain("lib/route.ts");
    expect(graph.get("lib/direct.ts")).toContain("types.ts"); // a type-only import counts
  });

  test("no module is in a cycle, types included", () => {
    const graph = importGraph();
    const cycles = [...graph.keys()].map((name) => cycleFrom(graph, name)).filter((cycle) => cycle !== null);
    expect(cycles).toEqual([]);
  });

  test("types.ts imports only modules that import nothing of ours", () => {
    const graph = importGraph();
    for (const target of graph.get("types.ts") ?? []) expect([target, graph.get(target)]).toEqual([target, []]);
  });
});
