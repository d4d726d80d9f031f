/**
 * Results of a benchmark: their shape, their printout and their file
 * bench/results/NAME.json.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Summary } from './stats.js';

export interface Budget {
  /** `<=` for a time or a cost, `>=` for a rate. */
  op: '<=' | '>=';
  value: number;
}

/** The physical limit a figure is read against, measured in the same run. */
export interface Limit {
  label: string;
  value: number;
}

export interface Figure {
  /** Stable identifier, for comparing result files. */
  key: string;
  label: string;
  unit: string;
  /** The value compared with the budget: a median, a p99 or a total, as the label states. */
  value: number;
  budget?: Budget;
  limit?: Limit;
  /** Repeated samples behind `value`, when there are several. */
  summary?: Summary;
  note?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryBytes: number;
}

export interface BenchResult {
  name: string;
  title: string;
  quick: boolean;
  startedAt: string;
  durationMs: number;
  machine: Machine;
  /** 1-minute load average before and after, as `uptime` shows it. */
  load: { before: number; after: number };
  figures: Figure[];
  details: Record<string, unknown>;
}

export function readMachine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // Not Linux: os.cpus() is all there is.
  }
  return { cpus: os.availableParallelism(), cpuModel, node: process.version, platform: `${os.platform()} ${os.release()}`, memoryBytes: os.totalmem() };
}

export function isMet(figure: Figure): boolean | null {
  if (!figure.budget || !Number.isFinite(figure.value)) return figure.budget ? false : null;
  return figure.budget.op === '<=' ? figure.value <= figure.budget.value : figure.value >= figure.budget.value;
}

/** Figure divided by its physical limit: how many times the limit a cost is, or what share of the limit a rate reaches. */
export function limitRatio(figure: Figure): number | null {
  if (!figure.limit || figure.limit.value === 0 || !Number.isFinite(figure.limit.value)) return null;
  return figure.value / figure.limit.value;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function formatFigure(figure: Figure): string[] {
  const met = isMet(figure);
  const budget = figure.budget ? `  budget ${figure.budget.op} ${formatNumber(figure.budget.value)}: ${met ? 'met' : 'MISSED'}` : '';
  const lines = [`  ${figure.label}: ${formatNumber(figure.value)} ${figure.unit}${budget}`];
  const ratio = limitRatio(figure);
  if (figure.limit && ratio !== null) {
    lines.push(`      limit: ${figure.limit.label} ${formatNumber(figure.limit.value)} ${figure.unit} (ratio ${formatNumber(ratio)})`);
  }
  const summary = figure.summary;
  if (summary) {
    const parts = [`n=${summary.count}`, `min ${formatNumber(summary.min)}`, `p50 ${formatNumber(summary.p50)}`, `p95 ${formatNumber(summary.p95)}`, `p99 ${formatNumber(summary.p99)}`, `max ${formatNumber(summary.max)}`];
    lines.push(`      ${parts.join('  ')}`);
  }
  if (figure.note) lines.push(`      ${figure.note}`);
  return lines;
}

export function formatResult(result: BenchResult): string {
  const header = `${result.name}: ${result.title}${result.quick ? ' (quick mode)' : ''}`;
  const footer = `  took ${(result.durationMs / 1000).toFixed(1)} s; load average ${result.load.before.toFixed(2)} before, ${result.load.after.toFixed(2)} after`;
  return [header, ...result.figures.flatMap(formatFigure), footer].join('\n');
}

export async function writeResult(directory: string, result: BenchResult): Promise<string> {
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `${result.name}.json`);
  await writeFile(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}
