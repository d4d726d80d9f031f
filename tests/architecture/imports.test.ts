import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_EXTENSIONS = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'out']);

// Static imports and re-exports (`... from 'x'`, also across lines), bare
// `import 'x'`, and dynamic `import('x')` or `require('x')`.
const IMPORT_PATTERN = /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT_PATTERN)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return SOURCE_EXTENSIONS.test(entry.name) ? [path] : [];
  });
}

interface Violation {
  file: string;
  specifier: string;
}

/** Lists every import in `dir` that `isForbidden` rejects, with the importing file. */
function violations(dir: string, isForbidden: (specifier: string, file: string) => boolean): { scanned: number; found: Violation[] } {
  const files = sourceFiles(dir);
  const found = files.flatMap((file) =>
    importsOf(readFileSync(join(root, file), 'utf8'))
      .filter((specifier) => isForbidden(specifier, file))
      .map((specifier) => ({ file, specifier })),
  );
  return { scanned: files.length, found };
}

const isElectron = (specifier: string) => specifier === 'electron' || specifier.startsWith('electron/');

/** Tests whether a relative import from `file` lands inside the repository folder `dir`. */
function resolvesInto(specifier: string, file: string, dir: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const target = relative(root, resolve(root, dirname(file), specifier));
  return target === dir || target.startsWith(`${dir}${sep}`);
}

const NODE_BUILTINS = new Set(builtinModules);
const isNodeBuiltin = (specifier: string) => specifier.startsWith('node:') || NODE_BUILTINS.has(specifier.split('/')[0] ?? '');

describe('import parser', () => {
  test.each([
    ["import { app } from 'electron';", ['electron']],
    ["import type { X } from '../hub/model.js';", ['../hub/model.js']],
    ["import {\n  a,\n  b,\n} from 'node:fs';", ['node:fs']],
    ["export { y } from './y.js';", ['./y.js']],
    ["export * from 'electron/main';", ['electron/main']],
    ["import './styles.css';", ['./styles.css']],
    ["const m = await import('electron');", ['electron']],
    ["const fs = require('fs');", ['fs']],
    ["const label = 'import from nowhere';", []],
  ])('finds imports in %j', (source, expected) => {
    expect(importsOf(source)).toEqual(expected);
  });
});

describe('import rules', () => {
  test.each([
    ['electron/hub', 'electron', isElectron],
    ['electron/hub', 'electron/main', (s: string, f: string) => resolvesInto(s, f, join('electron', 'main'))],
    ['agent', 'electron', isElectron],
    ['agent/src/protocol', 'electron', isElectron],
    ['agent/src/protocol', 'anything under electron/', (s: string, f: string) => resolvesInto(s, f, 'electron')],
    ['renderer', 'electron/main', (s: string, f: string) => resolvesInto(s, f, join('electron', 'main')) || isElectron(s)],
    ['renderer', 'node builtins', isNodeBuiltin],
  ] as const)('%s imports no %s', (dir, _forbidden, isForbidden) => {
    const { scanned, found } = violations(dir, isForbidden);

    expect(scanned).toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});
