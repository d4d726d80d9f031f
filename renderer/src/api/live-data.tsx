/**
 * Hub state most pages share, kept current from the `changes` push: the
 * fleet with a short load history per agent, jobs, tasks, the status bar's
 * counts and the hub's addresses. Lists are fetched again after a
 * reconnect, since pushes sent meanwhile are lost.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AgentView, Job, Run, Task } from '../../../electron/hub/model.js';
import type { HubInfo, HubSummary, UiChanges } from '../../../electron/hub/ui-contract.js';
import type { HubClient } from './client.js';
import { useHub, useWhenConnected } from './hub-context.js';

/** Load samples kept per agent: ten minutes at one report every two seconds. */
const LOAD_HISTORY_POINTS = 300;
/** Refetches after a burst of changes wait this long, so a burst costs one request. */
const REFETCH_DELAY_MS = 250;

export interface LoadSample {
  t: number;
  load: number;
}

export interface LiveData {
  agents: AgentView[];
  loadHistory: ReadonlyMap<string, LoadSample[]>;
  jobs: Job[];
  tasks: Task[];
  summary: HubSummary | null;
  info: HubInfo | null;
  /** True once the first lists arrived. */
  loaded: boolean;
  /** Applies a local change at once, before the push confirms it. */
  removeAgent(id: string): void;
}

const LiveDataContext = createContext<LiveData | null>(null);

function mergeById<T extends { id: string }>(list: T[], changed: readonly T[]): T[] {
  if (changed.length === 0) return list;
  const byId = new Map(changed.map((item) => [item.id, item]));
  const next = list.map((item) => byId.get(item.id) ?? item);
  for (const item of changed) if (!list.some((existing) => existing.id === item.id)) next.push(item);
  return next;
}

function appendLoad(history: Map<string, LoadSample[]>, agents: readonly AgentView[], now: number): Map<string, LoadSample[]> {
  const next = new Map(history);
  for (const agent of agents) {
    if (agent.load === null) continue;
    const samples = [...(next.get(agent.id) ?? []), { t: now, load: agent.load }];
    next.set(agent.id, samples.slice(-LOAD_HISTORY_POINTS));
  }
  return next;
}

/** Runs `task` once after calls stop for `delayMs`; the returned cancel clears a pending run. */
function useDebounced(task: () => void, delayMs: number): [() => void, () => void] {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(task);
  latest.current = task;
  const cancel = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
  }, []);
  const schedule = useCallback(() => {
    cancel();
    timer.current = setTimeout(() => latest.current(), delayMs);
  }, [cancel, delayMs]);
  useEffect(() => cancel, [cancel]);
  return [schedule, cancel];
}

export function LiveDataProvider({ children }: { children: ReactNode }) {
  const client = useHub();
  const [agents, setAgents] = useState<AgentView[]>([]);
  const [loadHistory, setLoadHistory] = useState<Map<string, LoadSample[]>>(new Map());
  const [jobs, setJobs] = useState<Job[]>([]);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [summary, setSummary] = useState<HubSummary | null>(null);
  const [info, setInfo] = useState<HubInfo | null>(null);
  const [loaded, setLoaded] = useState(false);
  const pending = useRef({ jobs: false, tasks: false });

  const refetch = useCallback(
    async (target: HubClient) => {
      const wanted = pending.current;
      pending.current = { jobs: false, tasks: false };
      const [nextSummary, nextJobs, nextTasks] = await Promise.all([
        target.request('hub.summary'),
        wanted.jobs ? target.request('jobs.list') : null,
        wanted.tasks ? target.request('tasks.list') : null,
      ]);
      setSummary(nextSummary);
      if (nextJobs) setJobs(nextJobs);
      if (nextTasks) setTasks(nextTasks);
    },
    [],
  );
  const [refetchSoon] = useDebounced(() => void refetch(client).catch(() => undefined), REFETCH_DELAY_MS);

  useWhenConnected((connected) => {
    let cancelled = false;
    const load = async () => {
      const [nextAgents, nextJobs, nextTasks, nextSummary, nextInfo] = await Promise.all([
        connected.request('agents.list'),
        connected.request('jobs.list'),
        connected.request('tasks.list'),
        connected.request('hub.summary'),
        connected.request('hub.info'),
      ]);
      if (cancelled) return;
      setAgents(nextAgents);
      setJobs(nextJobs);
      setTasks(nextTasks);
      setSummary(nextSummary);
      setInfo(nextInfo);
      setLoaded(true);
    };
    void load().catch(() => undefined);
    const stop = connected.on('changes', (changes: UiChanges) => {
      if (changes.agents.length > 0) {
        setAgents((list) => mergeById(list, changes.agents));
        setLoadHistory((history) => appendLoad(history, changes.agents, Date.now()));
      }
      if (changes.jobs.length > 0) pending.current.jobs = true;
      if (changes.tasks.length > 0) pending.current.tasks = true;
      refetchSoon();
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, []);

  const removeAgent = useCallback((id: string) => setAgents((list) => list.filter((agent) => agent.id !== id)), []);
  const value = useMemo<LiveData>(
    () => ({ agents, loadHistory, jobs, tasks, summary, info, loaded, removeAgent }),
    [agents, loadHistory, jobs, tasks, summary, info, loaded, removeAgent],
  );
  return <LiveDataContext.Provider value={value}>{children}</LiveDataContext.Provider>;
}

export function useLiveData(): LiveData {
  const value = useContext(LiveDataContext);
  if (!value) throw new Error('useLiveData must be used inside <LiveDataProvider>');
  return value;
}

/** Calls `listener` with the runs of every `changes` push, for pages that show runs. */
export function useRunChanges(listener: (runs: Run[]) => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  useWhenConnected((client) => client.on('changes', (changes: UiChanges) => {
    if (changes.runs.length > 0) latest.current(changes.runs);
  }), []);
}

export { mergeById };
