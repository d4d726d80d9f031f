/** Operations on task definitions; every saved source is compiled first. */
import { randomUUID } from 'node:crypto';
import { compileTask } from './compile.js';
import { HubError, notFound } from './errors.js';
import { taskInputSchema, taskPatchSchema, type Task } from './model.js';
import { definedOnly, parseInput, replaceById, type ServiceDeps } from './service-common.js';

export class TaskService {
  constructor(private readonly deps: ServiceDeps) {}

  listTasks(): Task[] {
    return this.deps.store.state.tasks;
  }

  getTask(id: string): Task {
    const task = this.deps.store.state.tasks.find((entry) => entry.id === id);
    if (!task) throw notFound('task', id);
    return task;
  }

  createTask(body: unknown): Task {
    const input = parseInput(taskInputSchema, body);
    const compiled = compile(input.source, input.runtime);
    const now = Date.now();
    const task: Task = { id: randomUUID(), ...input, version: 1, ...compiled, createdAt: now, updatedAt: now };
    this.deps.store.state.tasks.push(task);
    this.deps.store.save();
    this.deps.onChanged('task', task.id);
    return task;
  }

  updateTask(id: string, body: unknown): Task {
    const task = this.getTask(id);
    const { expectedVersion, ...patch } = parseInput(taskPatchSchema, body);
    if (expectedVersion !== undefined && expectedVersion !== task.version) {
      throw new HubError('conflict', `task ${task.name} was saved as version ${task.version} since version ${expectedVersion} was opened; reload it to see that change, then apply yours again`);
    }
    const merged = { ...task, ...definedOnly(patch) };
    const compiled = compile(merged.source, merged.runtime);
    const updated: Task = { ...merged, ...compiled, version: task.version + 1, updatedAt: Date.now() };
    replaceById(this.deps.store.state.tasks, updated);
    this.deps.store.save();
    this.deps.onChanged('task', id);
    return updated;
  }

  deleteTask(id: string): void {
    this.getTask(id);
    const users = this.deps.store.state.jobs.filter((job) => job.taskId === id);
    if (users.length > 0) {
      const names = users.slice(0, 5).map((job) => job.name).join(', ');
      throw new HubError('conflict', `task ${id} is used by ${users.length} job(s): ${names}. Delete or change those jobs first.`);
    }
    // Its queued runs (no job uses it, so they are runs started by hand) could only fail now.
    const now = Date.now();
    for (const run of this.deps.runs.activeRuns()) {
      if (run.taskId === id && run.status === 'queued') this.deps.runs.cancel(run.id, now);
    }
    this.deps.store.state.tasks = this.deps.store.state.tasks.filter((task) => task.id !== id);
    this.deps.store.save();
    this.deps.onChanged('task', id);
  }
}

function compile(source: string, runtime: Task['runtime']): { code: string; hash: string } {
  const result = compileTask(source, runtime);
  if (result.ok) return { code: result.code, hash: result.hash };
  const first = result.diagnostics[0];
  const where = first ? `line ${first.line}, column ${first.column}: ${first.message}` : 'unknown error';
  const error = new HubError('invalid', `source: does not compile (${result.diagnostics.length} error(s)); ${where}`, 'source');
  error.details = { diagnostics: result.diagnostics };
  throw error;
}
