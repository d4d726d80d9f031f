import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { compileTask, createTaskCompiler, type CompileResult } from '../../electron/hub/compile.js';

const VALID_TASK = `import type { TaskContext } from 'farmboy-agent/task';
import { basename } from 'node:path';

export default async (ctx: TaskContext<{ count: number }>) => {
  for (let i = 0; i < ctx.config.count; i++) {
    ctx.emit({ i, file: basename('/tmp/data.csv') });
  }
  ctx.progress(100, 'done');
  return { emitted: ctx.config.count };
};
`;

const tempDir = mkdtempSync(join(tmpdir(), 'farmboy-compile-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

function expectOk(result: CompileResult): { code: string; hash: string } {
  if (!result.ok) throw new Error(`expected a successful compile, got ${JSON.stringify(result.diagnostics)}`);
  return result;
}

function expectDiagnostics(result: CompileResult): { line: number; column: number; message: string }[] {
  if (result.ok) throw new Error('expected diagnostics, got a successful compile');
  return result.diagnostics;
}

async function importModule(code: string, name: string): Promise<{ default: (ctx: unknown) => Promise<unknown> }> {
  const file = join(tempDir, `${name}.mjs`);
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as { default: (ctx: unknown) => Promise<unknown> };
}

function fakeContext(config: Record<string, unknown>) {
  const records: unknown[] = [];
  const progress: unknown[] = [];
  const ctx = {
    config,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    progress: (percent: number, message?: string) => progress.push([percent, message]),
    emit: (record: unknown) => records.push(record),
    signal: new AbortController().signal,
    run: { id: 'r1', attempt: 1, jobId: null, jobName: null, taskId: 't1', taskName: 'task' },
    agent: { id: 'a1', name: 'agent', hostname: 'localhost' },
  };
  return { ctx, records, progress };
}

describe('compileTask node runtime', () => {
  test('valid task runs in Node', async () => {
    const { ctx, records, progress } = fakeContext({ count: 2 });

    const { code } = expectOk(compileTask(VALID_TASK, 'node'));
    const module = await importModule(code, 'valid');
    const result = await module.default(ctx);

    expect(result).toEqual({ emitted: 2 });
    expect(records).toEqual([
      { i: 0, file: 'data.csv' },
      { i: 1, file: 'data.csv' },
    ]);
    expect(progress).toEqual([[100, 'done']]);
    expect(code).not.toContain('farmboy-agent/task');
    expect(code).not.toContain('TaskContext');
  });

  test.each([
    ['global TaskContext without import', 'export default async (ctx: TaskContext) => { ctx.emit(1); };'],
    ['value-style import of types', "import { TaskContext } from 'farmboy-agent/task';\nexport default (ctx: TaskContext) => ctx.run.id;"],
    ['untyped JavaScript task', 'export default async function (ctx) { ctx.emit({ a: 1 }); }'],
    ['function declaration export', 'export default function collect(ctx: TaskContext): void { ctx.log.info(ctx.agent.name); }'],
    ['node globals and fetch', "export default async () => { const r = await fetch('http://127.0.0.1:1'); return process.pid + Buffer.byteLength(await r.text()); };"],
  ])('accepts %s', (_name, source) => {
    const result = compileTask(source, 'node');

    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  test.each([
    ['method on a Json value', 'export default async (ctx: TaskContext) => {\n  const x = 1;\n  ctx.config.x.toFixed();\n};', 3, 'toFixed'],
    ['emit without a record', "import type { TaskContext } from 'farmboy-agent/task';\n\nexport default async (ctx: TaskContext) => {\n  ctx.emit();\n};", 4, 'Expected 1 arguments'],
    ['unknown npm module', "import _ from 'lodash';\nexport default async () => _;", 1, "Cannot find module 'lodash'"],
    ['wrong node builtin export', "import { nope } from 'node:fs';\nexport default async () => nope;", 1, 'nope'],
  ])('reports type error: %s', (_name, source, line, text) => {
    const diagnostics = expectDiagnostics(compileTask(source, 'node'));

    const match = diagnostics.find((diagnostic) => diagnostic.message.includes(text));
    expect(match, JSON.stringify(diagnostics)).toBeDefined();
    expect(match?.line).toBe(line);
    expect(match?.column).toBeGreaterThan(0);
  });

  test.each([
    ['missing expression', 'export default async (ctx) => {\n  const a = 1;\n  let b = ;\n};', 3, 11],
    ['unclosed brace', 'export default async (ctx) => {\n  if (true) {\n', 3, 1],
  ])('reports syntax error: %s', (_name, source, line, column) => {
    const diagnostics = expectDiagnostics(compileTask(source, 'node'));

    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]?.line).toBe(line);
    expect(diagnostics[0]?.column).toBe(column);
  });

  test.each([
    ['no default export', 'export const x = 1;', 1, 'must have a default export'],
    ['default export not a function', 'const a = 1;\nexport default 42;', 2, 'not a task function'],
    ['result that is not JSON', '\nexport default async () => new Date();', 2, "'Date' is not assignable"],
  ])('rejects bad default export: %s', (_name, source, line, text) => {
    const diagnostics = expectDiagnostics(compileTask(source, 'node'));

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.line).toBe(line);
    expect(diagnostics[0]?.message).toContain(text);
  });

  test('permissive node types without @types/node', async () => {
    const compiler = createTaskCompiler({ nodeTypesDir: null });
    const { ctx, records } = fakeContext({ count: 1 });

    const result = compiler.compile(VALID_TASK, 'node');
    const module = await importModule(expectOk(result).code, 'permissive');
    await module.default(ctx);
    const typeError = compiler.compile('export default async (ctx: TaskContext) => { ctx.emit(); };', 'node');

    expect(records).toEqual([{ i: 0, file: 'data.csv' }]);
    expect(expectDiagnostics(typeError)[0]?.message).toContain('Expected 1 arguments');
  });
});

describe('compileTask output', () => {
  test('shell source passes through', () => {
    const source = '#!/bin/sh\necho "progress 50"\n';

    const result = expectOk(compileTask(source, 'shell'));

    expect(result.code).toBe(source);
    expect(result.hash).toBe(createHash('sha256').update(source).digest('hex'));
  });

  test('hash is stable and SHA-256', () => {
    const first = expectOk(compileTask(VALID_TASK, 'node'));

    const second = expectOk(compileTask(VALID_TASK, 'node'));
    const changed = expectOk(compileTask(VALID_TASK.replace("'done'", "'finished'"), 'node'));

    expect(second.code).toBe(first.code);
    expect(second.hash).toBe(first.hash);
    expect(first.hash).toBe(createHash('sha256').update(first.code).digest('hex'));
    expect(changed.hash).not.toBe(first.hash);
  });
});
