import { describe, expect, it } from 'vitest';
import { LiveLines } from './live-lines.js';

const line = (m: string) => ({ t: 1_796_000_000_000, s: 'stdout' as const, m });

describe('live lines of every run', () => {
  it('drops lines pushed again after a reconnect', () => {
    const live = new LiveLines(100);

    live.add('a', 0, [line('a0'), line('a1')]);
    live.add('b', 5, [line('b5')]);
    // The hub resends from an earlier index: a0 and a1 are known, a2 is new.
    const added = live.add('a', 0, [line('a0'), line('a1'), line('a2')]);

    expect(added).toBe(1);
    expect(live.lines.map((entry) => `${entry.runId}:${entry.m}`)).toEqual(['a:a0', 'a:a1', 'b:b5', 'a:a2']);
  });

  it('ignores a push of shown lines', () => {
    const live = new LiveLines(100);
    live.add('a', 3, [line('a3'), line('a4')]);

    expect(live.add('a', 3, [line('a3')])).toBe(0);
    expect(live.lines).toHaveLength(2);
  });

  it('keeps the newest lines past its limit', () => {
    const live = new LiveLines(3);
    live.add('a', 0, [line('1'), line('2')]);
    live.add('a', 2, [line('3'), line('4')]);

    expect(live.lines.map((entry) => entry.m)).toEqual(['2', '3', '4']);
  });
});
