/**
 * Prints where a CPU profile's time goes: self time per function and per
 * file, largest first. Usage: tsx bench/profile-summary.ts FILE.cpuprofile [TOP]
 *
 * Profiles come from a benchmark run with FARMBOY_BENCH_CPU_PROF=DIR, which
 * starts the hub and the agents with --cpu-prof.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  const marker = url.lastIndexOf('node_modules/');
  if (marker >= 0) return url.slice(marker + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*\/(main|work)\//, '');
}

function addTo(table: Map<string, number>, key: string, micros: number): void {
  table.set(key, (table.get(key) ?? 0) + micros);
}

function printTop(title: string, table: Map<string, number>, total: number, top: number): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...table.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, micros] of rows) {
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${key}\n`);
  }
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: tsx bench/profile-summary.ts FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const micros = profile.timeDeltas[index] ?? 0;
  const frame = byId.get(id)?.callFrame;
  if (!frame) return;
  total += micros;
  const where = shortUrl(frame.url) || '(native)';
  addTo(byFunction, `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`, micros);
  addTo(byFile, where, micros);
});
const top = Number(topArg ?? 30);
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
printTop('self time by function', byFunction, total, top);
printTop('self time by file', byFile, total, top);
