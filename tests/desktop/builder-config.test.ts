import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

interface Target {
  target: string[];
  icon: string;
}

interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  extraResources: { from: string; to: string }[];
  linux: Target;
  win: Target;
  mac: Target;
}

const config = parse(readFileSync(`${root}electron-builder.yml`, 'utf8')) as BuilderConfig;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Returns the width and height from a PNG's IHDR chunk, or null when the bytes are not a PNG. */
function pngSize(path: string): { width: number; height: number } | null {
  const bytes = readFileSync(path);
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (bytes.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('electron-builder.yml', () => {
  test('names the app', () => {
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z]+)+$/);
    expect(config.productName).toBe('Farmboy');
  });

  test.each([
    ['linux', ['AppImage', 'deb']],
    ['win', ['nsis']],
    ['mac', ['dmg']],
  ] as const)('%s targets are %j', (platform, targets) => {
    expect(config[platform].target).toEqual(targets);
  });

  test('packs the build and templates', () => {
    expect(config.files).toContain('out/**');
    expect(config.extraResources).toContainEqual(expect.objectContaining({ from: 'resources/templates', to: 'templates' }));
  });

  test('passes electron-builder schema validation', async () => {
    // Deep imports: app-builder-lib has no public validation entry point.
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util/out/DebugLogger.js') as { DebugLogger: new (enabled: boolean) => unknown };

    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  test.each(['linux', 'win', 'mac'] as const)('%s icon is a 512px PNG', (platform) => {
    const size = pngSize(`${root}${config[platform].icon}`);

    expect(size).toEqual({ width: 512, height: 512 });
  });

  test.each([
    ['resources/icon.png', 512],
    ['resources/tray.png', 32],
  ])('%s is a %ipx square PNG', (path, side) => {
    const size = pngSize(`${root}${path}`);

    expect(size).toEqual({ width: side, height: side });
    expect(config.files).toContain(path);
  });
});
