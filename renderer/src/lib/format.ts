/**
 * Formats durations, sizes and times for display.
 */

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}

/** "12 s ago", "in 3 min": the distance from `now` in its largest whole unit. */
export function formatRelative(time: number, now: number): string {
  const delta = time - now;
  const abs = Math.abs(delta);
  const steps: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  if (abs < 1000) return 'just now';
  const [size, unit] = steps.find(([length]) => abs >= length) ?? [1000, 's'];
  const text = `${Math.floor(abs / size)} ${unit}`;
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

/** Date and time in `timeZone` (the browser's own when omitted), 24-hour clock. */
export function formatDateTime(time: number | string, timeZone?: string): string {
  const date = typeof time === 'number' ? new Date(time) : new Date(time);
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(date);
}

export function formatTime(time: number): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(time));
}
