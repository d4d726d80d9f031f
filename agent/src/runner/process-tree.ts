/**
 * Signals to a run's whole process tree. Every run starts detached, as the
 * leader of its own process group, so signalling the group (a negative pid)
 * reaches the grandchildren a script starts too.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const isWindows = process.platform === 'win32';

export type StopSignal = 'SIGTERM' | 'SIGKILL';

export function signalProcessTree(child: ChildProcess, signal: StopSignal): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (isWindows) {
    // NOTE: untested here. taskkill without /F sends a close request, which console programs may ignore, and /F terminates.
    const args = signal === 'SIGKILL' ? ['/T', '/F', '/PID', String(pid)] : ['/T', '/PID', String(pid)];
    spawn('taskkill', args, { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch (error: unknown) {
    // ESRCH: the group is already gone, which is what we wanted.
    if (!isErrno(error, 'ESRCH')) throw error;
  }
}

/**
 * Returns whether the child or any process of its group still exists. `child.killed`
 * only records that a signal was sent, so it is never used to judge this.
 */
export function isProcessTreeAlive(child: ChildProcess): boolean {
  if (child.exitCode === null && child.signalCode === null) return true;
  const pid = child.pid;
  if (pid === undefined || isWindows) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error: unknown) {
    return isErrno(error, 'EPERM');
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
