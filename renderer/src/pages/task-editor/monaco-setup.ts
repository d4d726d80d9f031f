/**
 * Monaco, bundled with the app (never fetched from a CDN): the editor core,
 * TypeScript and shell highlighting, the TypeScript language service in a
 * worker, and the task context types so `ctx.` completes as in the hub's
 * compiler.
 */
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/languages/definitions/typescript/register.js';
import 'monaco-editor/languages/definitions/shell/register.js';
import { typescriptDefaults, ModuleKind, ModuleResolutionKind, ScriptTarget } from 'monaco-editor/languages/features/typescript/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import TypeScriptWorker from 'monaco-editor/languages/features/typescript/ts.worker.js?worker';
import { TASK_TYPES_DECLARATION } from '../../../../electron/hub/task-types.generated.js';

const TASK_MODULE = 'farmboy-agent/task';

// The same names the hub's compiler declares, so a task may use them without an import.
const GLOBALS = `
type Json = import('${TASK_MODULE}').Json;
type TaskContext<Config extends Record<string, Json> = Record<string, Json>> = import('${TASK_MODULE}').TaskContext<Config>;
type TaskFunction<Config extends Record<string, Json> = Record<string, Json>> = import('${TASK_MODULE}').TaskFunction<Config>;
declare module 'node:*';
declare var process: any;
declare var Buffer: any;
`;

let configured = false;

export function setUpMonaco(): typeof monaco {
  if (configured) return monaco;
  configured = true;
  self.MonacoEnvironment = {
    getWorker: (_workerId: string, label: string) => (label === 'typescript' || label === 'javascript' ? new TypeScriptWorker() : new EditorWorker()),
  };
  typescriptDefaults.setCompilerOptions({
    target: ScriptTarget.ES2020,
    module: ModuleKind.ESNext,
    moduleResolution: ModuleResolutionKind.NodeJs,
    strict: true,
    noEmit: true,
    allowNonTsExtensions: true,
    lib: ['es2022', 'dom'],
  });
  typescriptDefaults.addExtraLib(`declare module '${TASK_MODULE}' {\n${TASK_TYPES_DECLARATION}\n}`, 'file:///node_modules/farmboy-agent/task.d.ts');
  typescriptDefaults.addExtraLib(GLOBALS, 'file:///node_modules/farmboy-agent/globals.d.ts');
  return monaco;
}

export type Monaco = typeof monaco;
