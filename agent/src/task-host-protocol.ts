/**
 * Messages between the agent and a node task host over the child's IPC
 * channel. The host sends `ready` first. Everything specific to a run arrives
 * afterwards in `run`, so a host can be started before its run is known.
 */
import { z } from 'zod';
import { jsonObject, jsonValue } from './protocol/index.js';

const runFactsSchema = z.object({
  id: z.string(),
  attempt: z.number().int(),
  jobId: z.string().nullable(),
  jobName: z.string().nullable(),
  taskId: z.string(),
  taskName: z.string(),
});

const agentFactsSchema = z.object({ id: z.string(), name: z.string(), hostname: z.string() });

/** Agent to host. */
export const agentToHostSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run'),
    /** Absolute path of the cached task module. */
    modulePath: z.string(),
    /** The run's scratch directory; a host started ahead of its run moves there before importing the module. */
    cwd: z.string(),
    config: jsonObject,
    /** Added to the host's process.env before the module is imported. */
    env: z.record(z.string(), z.string()),
    run: runFactsSchema,
    agent: agentFactsSchema,
  }),
  /** Aborts ctx.signal; sent before the process group gets SIGTERM. */
  z.object({ type: z.literal('abort'), reason: z.string() }),
  /** Backpressure: the host keeps log, progress and record messages back until `resume`. */
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
]);
export type AgentToHost = z.infer<typeof agentToHostSchema>;

/** Host to agent. */
export const hostToAgentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('log'), stream: z.enum(['stdout', 'stderr']), message: z.string() }),
  z.object({ type: z.literal('progress'), percent: z.number().min(0).max(100), message: z.string().nullable() }),
  z.object({ type: z.literal('record'), record: jsonValue }),
  z.object({ type: z.literal('result'), result: jsonValue }),
  /** The task threw, or its module could not be loaded. */
  z.object({ type: z.literal('error'), message: z.string(), stack: z.string().nullable() }),
]);
export type HostToAgent = z.infer<typeof hostToAgentSchema>;
