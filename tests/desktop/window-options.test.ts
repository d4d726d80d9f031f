import { describe, expect, test } from 'vitest';
import { createWindowOptions, isSameOrigin } from '../../electron/main/window-options.js';

describe('createWindowOptions', () => {
  const options = createWindowOptions({ preloadPath: '/app/out/preload/index.cjs', iconPath: '/app/resources/icon.png' });
  const web = options.webPreferences ?? {};

  test.each([
    ['contextIsolation', true],
    ['sandbox', true],
    ['nodeIntegration', false],
    ['nodeIntegrationInWorker', false],
    ['nodeIntegrationInSubFrames', false],
    ['webSecurity', true],
    ['allowRunningInsecureContent', false],
    ['webviewTag', false],
    ['navigateOnDragDrop', false],
  ] as const)('sets %s to %s', (key, value) => {
    expect(web[key]).toBe(value);
  });

  test('uses the given preload and icon', () => {
    expect(web.preload).toBe('/app/out/preload/index.cjs');
    expect(options.icon).toBe('/app/resources/icon.png');
  });

  test('waits for ready-to-show', () => {
    expect(options.show).toBe(false);
  });

  test('omits icon when none given', () => {
    const bare = createWindowOptions({ preloadPath: '/p.cjs' });

    expect('icon' in bare).toBe(false);
  });
});

describe('isSameOrigin', () => {
  const appOrigin = 'http://127.0.0.1:7421';

  test.each([
    ['http://127.0.0.1:7421/runs/42', true],
    ['http://127.0.0.1:7421/#token=abc', true],
    ['http://127.0.0.1:7422/', false],
    ['http://localhost:7421/', false],
    ['https://127.0.0.1:7421/', false],
    ['https://example.com/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
  ])('%s is allowed: %s', (url, expected) => {
    expect(isSameOrigin(url, appOrigin)).toBe(expected);
  });
});
