/**
 * Prints a Markdown table of the figures in one or more result folders (the
 * bench/results/ of several complete runs), each figure as the median over
 * the runs, with its budget, its physical limit and the ratio between them.
 *
 * Usage: tsx bench/summarize.ts DIR [DIR...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { formatNumber, isMet, type BenchResult, type Figure } from './lib/report.js';
import { median } from './lib/stats.js';

interface Row {
  benchmark: string;
  figure: Figure;
  values: number[];
  limits: number[];
}

function collect(dirs: string[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.json')).sort()) {
      const result = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Partial<BenchResult>;
      // Other tools write to bench/results/ too (the soak test); only benchmark results have figures.
      if (result.quick !== false || !Array.isArray(result.figures) || result.name === undefined) continue;
      for (const figure of result.figures) {
        const key = `${result.name}/${figure.key}`;
        const row = rows.get(key) ?? { benchmark: result.name, figure, values: [], limits: [] };
        row.values.push(figure.value);
        if (figure.limit) row.limits.push(figure.limit.value);
        rows.set(key, row);
      }
    }
  }
  return rows;
}

function cell(row: Row): string[] {
  const value = median(row.values);
  const figure: Figure = { ...row.figure, value };
  const met = isMet(figure);
  let verdict = '';
  if (met === true) verdict = 'met';
  if (met === false) verdict = '**missed**';
  const budget = figure.budget ? `${figure.budget.op} ${formatNumber(figure.budget.value)}` : '';
  const spread = row.values.length > 1 ? ` (${formatNumber(Math.min(...row.values))} to ${formatNumber(Math.max(...row.values))})` : '';
  const limit = row.limits.length > 0 ? median(row.limits) : null;
  return [
    row.benchmark,
    figure.label,
    `${formatNumber(value)} ${figure.unit}${spread}`,
    budget,
    verdict,
    limit === null ? '' : `${formatNumber(limit)} (${figure.limit?.label ?? ''})`,
    limit === null || limit === 0 ? '' : formatNumber(value / limit),
  ];
}

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write('usage: tsx bench/summarize.ts DIR [DIR...]\n');
  process.exit(2);
}
const header = ['benchmark', 'figure', 'median of runs (range)', 'budget', '', 'physical limit, same run (median)', 'ratio'];
process.stdout.write(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n`);
for (const row of collect(dirs).values()) process.stdout.write(`| ${cell(row).join(' | ')} |\n`);
