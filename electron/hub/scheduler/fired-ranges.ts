/**
 * The fire instants a job has already fired, so that no instant fires twice
 * when the wall clock is set back over it.
 *
 * Between clock jumps a job fires every instant of its schedule in turn, so
 * its history is a few closed ranges [from, to] in which every instant of
 * the schedule has fired. Instants that were missed (skipped or caught up
 * with one fire) are not in any range: after the clock is set back over
 * them they fire at their wall-clock time, so the schedule never stalls.
 */
export interface FiredRange {
  from: number;
  to: number;
}

/** Ranges kept per job; older ones matter only if the clock is set back past them. */
const MAX_RANGES = 32;

export class FiredRanges {
  /** Sorted by `from`, disjoint. */
  private ranges: FiredRange[] = [];

  /** Records that every schedule instant in [from, to] has fired; merges ranges that overlap or touch. */
  add(from: number, to: number): void {
    let merged: FiredRange = { from, to };
    const separate: FiredRange[] = [];
    for (const range of this.ranges) {
      if (range.to >= merged.from && range.from <= merged.to) {
        merged = { from: Math.min(range.from, merged.from), to: Math.max(range.to, merged.to) };
      } else {
        separate.push(range);
      }
    }
    separate.push(merged);
    separate.sort((a, b) => a.from - b.from);
    // NOTE: dropping the oldest range means a clock set back past it could fire its instants again.
    this.ranges = separate.slice(-MAX_RANGES);
  }

  /** Returns the range that contains `instant`, or null. */
  containing(instant: number): FiredRange | null {
    return this.ranges.find((range) => range.from <= instant && instant <= range.to) ?? null;
  }

  /** Returns the latest range end before `instant`, or null. */
  lastEndBefore(instant: number): number | null {
    let best: number | null = null;
    for (const range of this.ranges) {
      if (range.to < instant && (best === null || range.to > best)) best = range.to;
    }
    return best;
  }
}
