// Measures process starts from a fresh, small Node process, so the physical
// limit does not depend on how much memory the benchmark runner uses. A
// fork copies the parent's page tables, so it takes longer from a larger
// process. Plain JavaScript, started with `node`; prints one JSON object.
//
// Usage: node spawn-probe.mjs MODE COUNT CONCURRENCY COMMAND [ARGS...]
//   MODE serial: COUNT spawns one after another -> { startMs: [...], reapMs: [...] }
//   MODE rate: COUNT spawns, CONCURRENCY at a time -> { perSecond }
//   MODE boundary: COUNT spawns, each from a timer set for the next second boundary -> { latenessMs: [...] }
import { spawn } from 'node:child_process';

const [mode, countText, concurrencyText, command, ...args] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);

function once(onSpawn) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let startMs = Number.NaN;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('spawn', () => {
      startMs = performance.now() - started;
      onSpawn?.();
    });
    child.once('error', reject);
    child.once('close', () => resolve({ startMs, reapMs: performance.now() - started }));
  });
}

async function serial() {
  const samples = [];
  for (let index = 0; index < count; index += 1) samples.push(await once());
  return { startMs: samples.map((sample) => sample.startMs), reapMs: samples.map((sample) => sample.reapMs) };
}

async function rate() {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next += 1;
      await once();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { perSecond: count / ((performance.now() - started) / 1000) };
}

async function boundary() {
  const latenessMs = [];
  for (let index = 0; index < count; index += 1) {
    const at = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
    await once(() => latenessMs.push(Date.now() - at));
  }
  return { latenessMs };
}

const modes = { serial, rate, boundary };
if (!(mode in modes)) {
  process.stderr.write(`spawn-probe: unknown mode ${mode}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await modes[mode]()) + '\n');
