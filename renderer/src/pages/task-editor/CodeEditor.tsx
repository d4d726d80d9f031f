/**
 * Monaco as a controlled React component, with compile errors shown as
 * markers at their lines.
 */
import { useComputedColorScheme } from '@mantine/core';
import { useEffect, useRef } from 'react';
import type { CompileDiagnostic, Runtime } from '../../../../electron/hub/model.js';
import { setUpMonaco } from './monaco-setup.js';

const monaco = setUpMonaco();
type Editor = ReturnType<typeof monaco.editor.create>;

export interface CodeEditorProps {
  value: string;
  runtime: Runtime;
  onChange(value: string): void;
  /** Called on Ctrl+S or Cmd+S. */
  onSave(): void;
  diagnostics: readonly CompileDiagnostic[];
}

const MARKER_OWNER = 'farmboy-hub';

export function CodeEditor({ value, runtime, onChange, onSave, diagnostics }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Editor | null>(null);
  const callbacks = useRef({ onChange, onSave });
  callbacks.current = { onChange, onSave };
  const scheme = useComputedColorScheme('light');

  useEffect(() => {
    if (!host.current) return undefined;
    const created = monaco.editor.create(host.current, {
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
      tabSize: 2,
      model: monaco.editor.createModel(value, runtime === 'node' ? 'typescript' : 'shell', monaco.Uri.parse(`file:///task.${runtime === 'node' ? 'ts' : 'sh'}`)),
    });
    editor.current = created;
    const subscription = created.onDidChangeModelContent(() => callbacks.current.onChange(created.getValue()));
    created.addAction({ id: 'farmboy.save', label: 'Save task', keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS], run: () => callbacks.current.onSave() });
    return () => {
      subscription.dispose();
      created.getModel()?.dispose();
      created.dispose();
      editor.current = null;
    };
    // The editor is created once per runtime; later values flow in through the effect below.
  }, [runtime]);

  useEffect(() => {
    const current = editor.current;
    if (current && current.getValue() !== value) current.setValue(value);
  }, [value]);

  useEffect(() => {
    monaco.editor.setTheme(scheme === 'dark' ? 'vs-dark' : 'vs');
  }, [scheme]);

  useEffect(() => {
    const model = editor.current?.getModel();
    if (!model) return;
    monaco.editor.setModelMarkers(
      model,
      MARKER_OWNER,
      diagnostics.map((item) => ({
        severity: monaco.MarkerSeverity.Error,
        message: item.message,
        startLineNumber: item.line,
        startColumn: item.column,
        endLineNumber: item.line,
        endColumn: model.getLineMaxColumn(Math.min(item.line, model.getLineCount())),
      })),
    );
  }, [diagnostics, runtime]);

  return <div ref={host} style={{ height: '100%', minHeight: 420 }} data-testid="code-editor" />;
}
