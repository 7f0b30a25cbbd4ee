/** The folders of `src/` form layers: no folder imports, directly or through others, a folder that imports it. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// The test runs from dist/test/unit; the sources it reads are the TypeScript ones.
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/**
 * The folders of `src/` from the bottom layer up: a folder imports only folders of lower layers.
 * `http/` (the request pipeline) sits at the bottom, so that both `gateway/` and `api/` can use it.
 * A new folder must be placed here, or the test fails.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['registry/', 'http/'],
  ['handler/'],
  ['runtime-api/'],
  ['runtime/'],
  ['config/', 'runtime-client/', 'metrics/'],
  ['auth/', 'deploy/', 'gateway/'],
  ['template/', 'logs/', 'parameters/', 'topics/'],
  ['api/', 'lambda/', 'watch/'],
  ['cli/', 'testing/', 'console/', 'parameters-client/'],
];

/** Static imports, re-exports and dynamic imports of a relative module. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm;

/** The unit a file belongs to: its top-level folder, or the file itself when it sits in `src/`. */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : `${first}/`;
}

/** Which units each unit imports, from the `src/**\/*.ts` files. */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
  for (const name of files) {
    const file = path.join(SRC, name);
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = unitOf(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts')));
      if (target !== from) edges.add(target);
    }
  }
  return graph;
}

/** Every cycle's units (strongly connected components of more than one unit), found with Tarjan's algorithm. */
function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (unit: string): void => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit)!);
    stack.push(unit);
    onStack.add(unit);
    for (const next of graph.get(unit) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(unit, Math.min(low.get(unit)!, index.get(next)!));
      }
    }
    if (low.get(unit) !== index.get(unit)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== unit);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const unit of graph.keys()) if (!index.has(unit)) visit(unit);
  return cycles;
}

/** For a failure message: each edge inside a cycle, as `a -> b`. */
function describeCycle(graph: ReadonlyMap<string, ReadonlySet<string>>, cycle: readonly string[]): string {
  const members = new Set(cycle);
  return cycle.flatMap((unit) => [...graph.get(unit) ?? []].filter((to) => members.has(to)).map((to) => `${unit} -> ${to}`)).join(', ');
}

describe('folder layering', () => {
  it('finds a cycle when there is one, and none in a chain', () => {
    const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
    assert.deepEqual(cyclesOf(graph({ 'a/': ['b/'], 'b/': ['c/'], 'c/': ['a/'], 'd/': ['a/'] })), [['a/', 'b/', 'c/']]);
    assert.deepEqual(cyclesOf(graph({ 'a/': ['b/'], 'b/': ['c/'], 'c/': [] })), []);
  });

  it('reads the imports of src/', () => {
    const graph = importGraph();
    // A sample of known edges: if the reader broke, the next test would pass for nothing.
    assert.ok(graph.get('api/')?.has('deploy/'));
    assert.ok(graph.get('template/')?.has('config/'));
    assert.ok(graph.get('serve')?.has('runtime/'));
    assert.ok(graph.get('api/')?.has('http/'));
    assert.ok(graph.get('gateway/')?.has('http/'));
  });

  it('places every folder of src/ in a layer, each importing only folders of lower layers', () => {
    const graph = importGraph();
    const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));
    const folders = [...graph.keys()].filter((unit) => unit.endsWith('/'));
    assert.deepEqual(folders.filter((folder) => !layerOf.has(folder)), [], 'folders missing from LAYERS');
    const upward: string[] = [];
    for (const folder of folders) {
      for (const target of graph.get(folder) ?? []) {
        if (target.endsWith('/') && layerOf.get(target)! >= layerOf.get(folder)!) upward.push(`${folder} -> ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('has no cycle between the top-level folders (and files) of src/', () => {
    const graph = importGraph();
    const cycles = cyclesOf(graph);
    assert.deepEqual(cycles.map((cycle) => describeCycle(graph, cycle)), []);
  });
});
