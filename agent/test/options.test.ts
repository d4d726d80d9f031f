import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseCommand, parseFingerprint, type AgentOptions } from '../src/options.js';

const BASE = ['--hub', 'http://127.0.0.1:7420', '--token', 'tok', '--insecure'];

function parseOptions(argv: string[], env: NodeJS.ProcessEnv = {}): AgentOptions {
  const command = parseCommand(argv, env);
  if (command.kind !== 'run') throw new Error(`expected a run command, got ${command.kind}`);
  return command.options;
}

describe('parseCommand', () => {
  it('applies the defaults', () => {
    const options = parseOptions(BASE);

    expect(options).toMatchObject({
      hubUrl: 'http://127.0.0.1:7420',
      token: 'tok',
      fingerprint: null,
      insecure: true,
      name: os.hostname(),
      tags: [],
      slots: os.availableParallelism(),
      maxLoad: null,
      dataDir: path.join(os.homedir(), '.farmboy-agent'),
      logLevel: 'info',
      connectTimeoutMs: 60_000,
      loadIntervalMs: 2_000,
      killGraceMs: 5_000,
      stopGraceMs: 30_000,
      maxRunLogBytes: 128 * 1024 * 1024,
    });
  });

  it('reads every option', () => {
    const argv = [...BASE, '--name', 'rack-1', '--tags', 'gpu, linux,gpu', '--slots', '4', '--max-load', '0.8', '--data-dir', 'rel/dir', '--log-level', 'debug'];

    const options = parseOptions(argv);

    expect(options).toMatchObject({ name: 'rack-1', tags: ['gpu', 'linux'], slots: 4, maxLoad: 0.8, logLevel: 'debug' });
    expect(options.dataDir).toBe(path.resolve('rel/dir'));
  });

  it('reads the token and overrides from the environment', () => {
    const env = { FARMBOY_AGENT_TOKEN: 'from-env', FARMBOY_CONNECT_TIMEOUT_MS: '500', FARMBOY_KILL_GRACE_MS: '0', LOG_LEVEL: 'warn' };

    const options = parseOptions(['--hub', 'https://hub.lan:7420/'], env);

    expect(options).toMatchObject({ hubUrl: 'https://hub.lan:7420', token: 'from-env', connectTimeoutMs: 500, killGraceMs: 0, logLevel: 'warn' });
  });

  it.each([
    { argv: ['--help'], kind: 'help' },
    { argv: ['-h'], kind: 'help' },
    { argv: ['--version'], kind: 'version' },
  ])('returns $kind for $argv', ({ argv, kind }) => {
    expect(parseCommand(argv, {}).kind).toBe(kind);
  });

  it.each([
    { argv: ['--token', 'x'], message: 'Option --hub is required, for example --hub https://10.0.0.5:7420.' },
    { argv: ['--hub', 'foo', '--token', 'x'], message: 'Option --hub must be an http:// or https:// URL, got "foo".' },
    { argv: ['--hub', 'ftp://h', '--token', 'x'], message: 'Option --hub must be an http:// or https:// URL, got "ftp://h".' },
    { argv: ['--hub', 'http://h/x', '--token', 'x'], message: 'Option --hub must be the hub\'s address without a path, such as https://HOST:7420, got "http://h/x".' },
    {
      argv: ['--hub', 'http://h', '--token', 'x'],
      message:
        'Option --hub is a plain http:// address, got "http://h". Use the https:// address from the hub\'s join command, or add --insecure on a trusted network (the hub must run with --insecure too).',
    },
    { argv: ['--hub', 'https://h', '--insecure'], message: 'Option --insecure applies to http:// hub addresses only, got "https://h". Drop --insecure to connect over TLS.' },
    {
      argv: ['--hub', 'https://h', '--fingerprint', 'sha256:abc'],
      message: 'Option --fingerprint must be sha256: followed by 64 hexadecimal digits, as in the hub\'s join command, got "sha256:abc".',
    },
    { argv: [...BASE, '--slots', '0'], message: 'Option --slots must be a whole number from 1 to 1024, got "0".' },
    { argv: [...BASE, '--slots', '2.5'], message: 'Option --slots must be a whole number from 1 to 1024, got "2.5".' },
    { argv: [...BASE, '--max-load=-1'], message: 'Option --max-load must be a number above 0, such as 0.8, got "-1".' },
    { argv: [...BASE, '--max-load', 'high'], message: 'Option --max-load must be a number above 0, such as 0.8, got "high".' },
    { argv: [...BASE, '--tags', 'a b'], message: 'Option --tags takes tags of 1 to 64 letters, digits and _ . : -, got "a b".' },
    { argv: [...BASE, '--log-level', 'loud'], message: 'Option --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud".' },
    { argv: [...BASE, '--name', ' '], message: 'Option --name must be 1 to 128 characters, got " ".' },
    { argv: [...BASE, '--nope'], message: "Unknown option '--nope'. Run farmboy-agent --help to see the options." },
  ])('rejects $argv', ({ argv, message }) => {
    expect(() => parseCommand(argv, {})).toThrow(new UsageError(message));
  });

  it('never echoes a bad token', () => {
    const token = 'x'.repeat(600);

    expect(() => parseCommand(['--hub', 'https://h', '--token', token], {})).toThrow('Option --token must be at most 512 characters, got 600.');
  });

  it.each([
    { env: { FARMBOY_CONNECT_TIMEOUT_MS: 'soon' }, message: 'FARMBOY_CONNECT_TIMEOUT_MS must be a whole number of at least 1, got "soon".' },
    { env: { FARMBOY_STOP_GRACE_MS: '-5' }, message: 'FARMBOY_STOP_GRACE_MS must be a whole number of at least 0, got "-5".' },
    { env: { LOG_LEVEL: 'chatty' }, message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "chatty".' },
  ])('rejects environment $env', ({ env, message }) => {
    expect(() => parseCommand(BASE, env)).toThrow(message);
  });
});

describe('parseFingerprint', () => {
  const hex = 'ab'.repeat(32);

  it.each([
    [`sha256:${hex}`],
    [`SHA256:${hex.toUpperCase()}`],
    [hex],
    [hex.match(/../g)?.join(':') ?? ''],
  ])('accepts %s', (value) => {
    expect(parseFingerprint(value)).toBe(`sha256:${hex}`);
  });
});
