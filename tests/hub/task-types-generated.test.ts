import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { TASK_TYPES_DECLARATION } from '../../electron/hub/task-types.generated.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('generated task types are current', () => {
  const result = spawnSync(process.execPath, ['scripts/generate-task-types.mjs', '--check'], { cwd: root, encoding: 'utf8' });

  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test('generated task types are self-contained', () => {
  const imports = TASK_TYPES_DECLARATION.match(/^\s*import\b.*$/gm) ?? [];

  expect(imports).toEqual([]);
  expect(TASK_TYPES_DECLARATION).toContain('export interface TaskContext');
  expect(TASK_TYPES_DECLARATION).toMatch(/^type Json = /m);
});
