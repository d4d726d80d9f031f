import { describe, expect, test } from 'vitest';
import { resolveBootstrapRequest, resolveLoginItemRequest, type BootstrapRequest } from '../../electron/main/bootstrap.js';
import { isFarmboyBridge } from '../../electron/preload/bridge.js';

const APP_ORIGIN = 'http://127.0.0.1:7421';
const BRIDGE = { hubUrl: 'http://127.0.0.1:7421', adminToken: 'secret-token' };

function request(overrides: Partial<BootstrapRequest>): BootstrapRequest {
  return { senderUrl: 'http://127.0.0.1:7421/', isMainFrame: true, args: [], ...overrides };
}

describe('resolveBootstrapRequest', () => {
  test.each([
    ['hub page root', 'http://127.0.0.1:7421/'],
    ['hub page route', 'http://127.0.0.1:7421/jobs?x=1#token=abc'],
  ])('grants the bridge to %s', (_name, senderUrl) => {
    const decision = resolveBootstrapRequest(request({ senderUrl }), APP_ORIGIN, BRIDGE);

    expect(decision).toEqual({ ok: true, bridge: BRIDGE });
  });

  test.each([
    ['a destroyed frame', request({ senderUrl: null }), 'missing-sender'],
    ['a subframe', request({ isMainFrame: false }), 'not-main-frame'],
    ['another port', request({ senderUrl: 'http://127.0.0.1:7422/' }), 'foreign-origin'],
    ['another host', request({ senderUrl: 'http://localhost:7421/' }), 'foreign-origin'],
    ['a remote page', request({ senderUrl: 'https://example.com/' }), 'foreign-origin'],
    ['a file page', request({ senderUrl: 'file:///tmp/index.html' }), 'foreign-origin'],
    ['a data page', request({ senderUrl: 'data:text/html,<p>x</p>' }), 'foreign-origin'],
    ['a malformed URL', request({ senderUrl: 'not a url' }), 'foreign-origin'],
    ['extra arguments', request({ args: ['give me more'] }), 'invalid-arguments'],
  ])('rejects %s', (_name, input, reason) => {
    const decision = resolveBootstrapRequest(input, APP_ORIGIN, BRIDGE);

    expect(decision).toEqual({ ok: false, reason });
  });
});

describe('resolveLoginItemRequest', () => {
  test.each([
    ['on', [true], { ok: true, enabled: true }],
    ['off', [false], { ok: true, enabled: false }],
    ['no argument', [], { ok: false, reason: 'invalid-arguments' }],
    ['a string', ['true'], { ok: false, reason: 'invalid-arguments' }],
    ['two arguments', [true, true], { ok: false, reason: 'invalid-arguments' }],
  ])('decides %s', (_name, args, expected) => {
    expect(resolveLoginItemRequest(request({ args }), APP_ORIGIN)).toEqual(expected);
  });

  test.each([
    ['a subframe', request({ isMainFrame: false, args: [true] }), 'not-main-frame'],
    ['a remote page', request({ senderUrl: 'https://example.com/', args: [true] }), 'foreign-origin'],
  ])('rejects %s', (_name, input, reason) => {
    expect(resolveLoginItemRequest(input, APP_ORIGIN)).toEqual({ ok: false, reason });
  });
});

describe('isFarmboyBridge', () => {
  test.each([
    [BRIDGE, true],
    [null, false],
    ['token', false],
    [{ hubUrl: 'http://127.0.0.1:7421' }, false],
    [{ hubUrl: '', adminToken: 'x' }, false],
    [{ hubUrl: 'http://127.0.0.1:7421', adminToken: 42 }, false],
  ])('%j is a bridge: %s', (value, expected) => {
    expect(isFarmboyBridge(value)).toBe(expected);
  });
});
