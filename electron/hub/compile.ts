/**
 * Compiles a saved task into the code an agent runs.
 *
 * `node` tasks are type-checked with the TypeScript compiler API against the
 * task context types and emitted as one ES2022 module. `shell` tasks pass
 * through unchanged. The module `farmboy-agent/task` is served from memory,
 * from the text that scripts/generate-task-types.mjs writes into
 * task-types.generated.ts, so no bundle needs agent/src at run time.
 *
 * NOTE: bundles must keep `typescript` external. It locates its lib .d.ts
 * files next to its own module file, which a bundler would move.
 */
import { createHash } from 'node:crypto';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type ts from 'typescript';
import type { CompileDiagnostic } from './model.js';
import { TASK_TYPES_DECLARATION } from './task-types.generated.js';

export type CompileResult = { ok: true; code: string; hash: string } | { ok: false; diagnostics: CompileDiagnostic[] };

export interface TaskCompilerOptions {
  /**
   * Folder of @types/node, or null to type node builtins permissively (every
   * `node:*` module is `any`, globals come from the DOM lib). Resolved from
   * this module's location by default.
   */
  nodeTypesDir?: string | null;
}

export interface TaskCompiler {
  compile(source: string, runtime: 'node' | 'shell'): CompileResult;
}

const TASK_TYPES_MODULE = 'farmboy-agent/task';
const VIRTUAL_ROOT = '/__farmboy__';
const TASK_FILE = `${VIRTUAL_ROOT}/task.ts`;
const CHECK_FILE = `${VIRTUAL_ROOT}/default-export-check.ts`;
const TASK_TYPES_FILE = `${VIRTUAL_ROOT}/task-types.d.ts`;
const GLOBALS_FILE = `${VIRTUAL_ROOT}/task-globals.d.ts`;
const NODE_FALLBACK_FILE = `${VIRTUAL_ROOT}/node-fallback.d.ts`;
const EMITTED_FILE = `${VIRTUAL_ROOT}/task.js`;

/** Lets a task name the context types without importing them. */
const GLOBALS_DECLARATION = `
type Json = import('${TASK_TYPES_MODULE}').Json;
type TaskContext<Config extends Record<string, Json> = Record<string, Json>> = import('${TASK_TYPES_MODULE}').TaskContext<Config>;
type TaskFunction<Config extends Record<string, Json> = Record<string, Json>> = import('${TASK_TYPES_MODULE}').TaskFunction<Config>;
`;

/**
 * Assigns the default export to `TaskFunction` so a wrong signature (a
 * non-function, a result that is not JSON) fails on save, not on the agent.
 * `never` as the config accepts a task typed with any config shape.
 */
// Joined from single-line strings on purpose: electron-vite's ESM shim
// inserts its own imports after the last line that looks like an import
// statement, and would land inside a multi-line template literal.
const CHECK_SOURCE = [
  "import task from './task.js';",
  `import type { TaskFunction } from '${TASK_TYPES_MODULE}';`,
  'export const checked: TaskFunction<never> = task;',
].join('\n');

let loadedTypeScript: typeof ts | null = null;

/**
 * Loads the TypeScript compiler on first use. It is by far the hub's largest
 * module (about half a second to load on a 2-core VM), and only saving a
 * task needs it, so a hub starts without it.
 */
function typescript(): typeof ts {
  loadedTypeScript ??= createRequire(import.meta.url)('typescript') as typeof ts;
  return loadedTypeScript;
}

function nodeFallbackDeclaration(): string {
  const names = builtinModules.filter((name) => !name.startsWith('_'));
  const modules = names.map((name) => `declare module '${name}';`).join('\n');
  return `declare module 'node:*';\n${modules}\ndeclare var process: any;\ndeclare var Buffer: any;\n`;
}

function findNodeTypesDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve('@types/node/package.json'));
  } catch {
    return null;
  }
}

function compilerOptions(nodeTypesDir: string | null): ts.CompilerOptions {
  return {
    target: typescript().ScriptTarget.ES2022,
    module: typescript().ModuleKind.ES2022,
    moduleResolution: typescript().ModuleResolutionKind.Bundler,
    moduleDetection: typescript().ModuleDetectionKind.Force,
    lib: nodeTypesDir ? ['lib.es2022.d.ts'] : ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: nodeTypesDir ? ['node'] : [],
    typeRoots: nodeTypesDir ? [dirname(nodeTypesDir)] : [],
    strict: true,
    // Off so a plain JavaScript task (`export default async (ctx) => ...`)
    // compiles; annotating `ctx: TaskContext` turns the checks on.
    noImplicitAny: false,
    noUncheckedIndexedAccess: false,
    skipLibCheck: true,
    esModuleInterop: true,
    noEmitOnError: true,
    declaration: false,
    sourceMap: false,
    newLine: typescript().NewLineKind.LineFeed,
  };
}

/** Creates a compiler whose parsed declaration files are reused by every later compile. */
export function createTaskCompiler(options: TaskCompilerOptions = {}): TaskCompiler {
  const nodeTypesDir = options.nodeTypesDir === undefined ? findNodeTypesDir() : options.nodeTypesDir;
  const settings = compilerOptions(nodeTypesDir);
  const virtualFiles = new Map<string, string>([
    [TASK_TYPES_FILE, TASK_TYPES_DECLARATION],
    [GLOBALS_FILE, GLOBALS_DECLARATION],
    [CHECK_FILE, CHECK_SOURCE],
  ]);
  if (!nodeTypesDir) virtualFiles.set(NODE_FALLBACK_FILE, nodeFallbackDeclaration());
  const cache = new Map<string, ts.SourceFile>();

  return {
    compile(source, runtime) {
      if (runtime === 'shell') return success(source);
      const files = new Map(virtualFiles).set(TASK_FILE, source);
      const host = createHost(settings, files, cache);
      const program = typescript().createProgram({ rootNames: [...files.keys()], options: settings, host });
      return checkAndEmit(program);
    },
  };
}

let defaultCompiler: TaskCompiler | undefined;

/**
 * Compiles one task source. The first `node` compile parses the standard
 * library and @types/node declarations, which took about 0.8 s on a 2-core
 * machine and blocks the event loop. Later compiles reuse them (about 0.1 s).
 */
export function compileTask(source: string, runtime: 'node' | 'shell'): CompileResult {
  defaultCompiler ??= createTaskCompiler();
  return defaultCompiler.compile(source, runtime);
}

function success(code: string): CompileResult {
  return { ok: true, code, hash: createHash('sha256').update(code).digest('hex') };
}

function createHost(options: ts.CompilerOptions, files: Map<string, string>, cache: Map<string, ts.SourceFile>): ts.CompilerHost {
  const base = typescript().createCompilerHost(options, true);
  const host: ts.CompilerHost = {
    ...base,
    getCurrentDirectory: () => VIRTUAL_ROOT,
    fileExists: (fileName) => files.has(fileName) || base.fileExists(fileName),
    readFile: (fileName) => files.get(fileName) ?? base.readFile(fileName),
    writeFile: () => undefined,
    getSourceFile(fileName, languageVersion, onError) {
      const text = files.get(fileName);
      // The task and the check file change on every call; everything else is
      // a declaration file that never changes while the hub runs.
      if (fileName === TASK_FILE || fileName === CHECK_FILE) {
        return typescript().createSourceFile(fileName, text ?? '', languageVersion, true);
      }
      const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
      let sourceFile = cache.get(key);
      if (!sourceFile) {
        sourceFile = text === undefined ? base.getSourceFile(fileName, languageVersion, onError) : typescript().createSourceFile(fileName, text, languageVersion, true);
        if (sourceFile) cache.set(key, sourceFile);
      }
      return sourceFile;
    },
    resolveModuleNameLiterals(literals, containingFile, _redirect, compilerOptions) {
      return literals.map((literal) => resolveModule(literal.text, containingFile, compilerOptions, host));
    },
  };
  return host;
}

function resolveModule(name: string, containingFile: string, options: ts.CompilerOptions, host: ts.CompilerHost): ts.ResolvedModuleWithFailedLookupLocations {
  if (name === TASK_TYPES_MODULE) {
    return { resolvedModule: { resolvedFileName: TASK_TYPES_FILE, extension: typescript().Extension.Dts } };
  }
  if (containingFile === CHECK_FILE && name === './task.js') {
    return { resolvedModule: { resolvedFileName: TASK_FILE, extension: typescript().Extension.Ts } };
  }
  // A task may import node builtins (ambient modules from @types/node) and
  // nothing else from disk: the agent has no node_modules to offer it.
  if (containingFile.startsWith(`${VIRTUAL_ROOT}/`)) return { resolvedModule: undefined };
  return typescript().resolveModuleName(name, containingFile, options, host);
}

function checkAndEmit(program: ts.Program): CompileResult {
  const task = program.getSourceFile(TASK_FILE);
  const check = program.getSourceFile(CHECK_FILE);
  if (!task || !check) throw new Error('task compiler lost its virtual source files');

  const syntax = program.getSyntacticDiagnostics(task);
  if (syntax.length > 0) return { ok: false, diagnostics: toDiagnostics(syntax) };

  const diagnostics = [
    ...toDiagnostics(program.getOptionsDiagnostics()),
    ...toDiagnostics(program.getGlobalDiagnostics()),
    ...toDiagnostics(program.getSemanticDiagnostics(task)),
    ...checkDefaultExport(program, task, check),
  ];
  if (diagnostics.length > 0) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };

  let code: string | undefined;
  const emitted = program.emit(task, (fileName, text) => {
    if (fileName === EMITTED_FILE) code = text;
  });
  if (emitted.emitSkipped || code === undefined) {
    return { ok: false, diagnostics: toDiagnostics(emitted.diagnostics) };
  }
  return success(code);
}

function checkDefaultExport(program: ts.Program, task: ts.SourceFile, check: ts.SourceFile): CompileDiagnostic[] {
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(task);
  const hasDefault = moduleSymbol !== undefined && checker.getExportsOfModule(moduleSymbol).some((symbol) => symbol.escapedName === 'default');
  if (!hasDefault) {
    return [{ line: 1, column: 1, message: 'A node task must have a default export: export default async (ctx: TaskContext) => { ... }' }];
  }

  const problems = program.getSemanticDiagnostics(check);
  if (problems.length === 0) return [];
  const position = typescript().getLineAndCharacterOfPosition(task, findDefaultExportStart(task));
  return problems.map((problem) => ({
    line: position.line + 1,
    column: position.character + 1,
    message: `The default export is not a task function (ctx: TaskContext) => Json | void: ${typescript().flattenDiagnosticMessageText(problem.messageText, '\n')}`,
  }));
}

function findDefaultExportStart(task: ts.SourceFile): number {
  for (const statement of task.statements) {
    if (typescript().isExportAssignment(statement)) return statement.getStart(task);
    const modifiers = typescript().canHaveModifiers(statement) ? typescript().getModifiers(statement) : undefined;
    if (modifiers?.some((modifier) => modifier.kind === typescript().SyntaxKind.DefaultKeyword)) return statement.getStart(task);
    if (typescript().isExportDeclaration(statement)) return statement.getStart(task);
  }
  return 0;
}

function toDiagnostics(list: readonly ts.Diagnostic[]): CompileDiagnostic[] {
  return list.map((diagnostic) => {
    const message = typescript().flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined) return { line: 1, column: 1, message };
    const position = typescript().getLineAndCharacterOfPosition(diagnostic.file, diagnostic.start);
    return { line: position.line + 1, column: position.character + 1, message };
  });
}

function sortDiagnostics(list: CompileDiagnostic[]): CompileDiagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.column - b.column);
}
