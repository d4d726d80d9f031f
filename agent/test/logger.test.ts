import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture(isTTY: boolean): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const write = (chunk: string): boolean => {
    text += chunk;
    return true;
  };
  const stream = { isTTY, write } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

describe('createLogger', () => {
  it.each([
    { format: 'JSON lines', isTTY: false },
    { format: 'terminal lines', isTTY: true },
  ])('redacts tokens in $format', ({ isTTY }) => {
    const output = capture(isTTY);
    const log = createLogger('info', output.stream);

    log.info({ token: 'tok-1', auth: { token: 'tok-2' }, env: { KEY: 'value-3' }, runId: 'r1' }, 'run started');

    expect(output.text()).toContain('run started');
    expect(output.text()).toContain('r1');
    expect(output.text()).not.toMatch(/tok-1|tok-2|value-3/);
  });

  it('writes one readable line on a terminal', () => {
    const output = capture(true);
    const log = createLogger('info', output.stream);

    log.warn({ runId: 'r1' }, 'run stalled');

    expect(output.text()).toMatch(/^\d\d:\d\d:\d\d WARN  run stalled runId=r1\n$/);
  });

  it('honours the level', () => {
    const output = capture(false);
    const log = createLogger('warn', output.stream);

    log.info({}, 'hidden');

    expect(output.text()).toBe('');
  });
});
