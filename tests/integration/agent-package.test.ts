import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, tempDir } from '../helpers/fleet.js';

afterEach(cleanup);

describe('farmboy-agent package', () => {
  it('installs from its tarball and runs', async () => {
    const packDir = await tempDir('pack');
    const installDir = await tempDir('install');
    execFileSync('npm', ['pack', '-w', 'farmboy-agent', '--pack-destination', packDir, '--silent'], { cwd: ROOT, stdio: 'pipe' });
    const tarball = readdirSync(packDir).find((name) => name.endsWith('.tgz'));
    writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'lab-machine', private: true }));

    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(packDir, tarball ?? 'missing.tgz')], { cwd: installDir, stdio: 'pipe' });
    const help = execFileSync('npx', ['--no-install', 'farmboy-agent', '--help'], { cwd: installDir, encoding: 'utf8' });
    const version = execFileSync('npx', ['--no-install', 'farmboy-agent', '--version'], { cwd: installDir, encoding: 'utf8' });

    expect(tarball).toMatch(/^farmboy-agent-.*\.tgz$/);
    expect(help).toContain('--hub');
    expect(help).toContain('--token');
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 180_000);
});
