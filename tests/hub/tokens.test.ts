import { describe, expect, it } from 'vitest';
import { createToken, hashToken, tokensEqual } from '../../electron/hub/tokens.js';

describe('tokens', () => {
  it('creates command-line safe tokens', () => {
    const tokens = Array.from({ length: 2000 }, () => createToken());

    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('compares tokens by content', () => {
    const token = createToken();

    expect(tokensEqual(token, token)).toBe(true);
    expect(tokensEqual(token, `${token}x`)).toBe(false);
    expect(tokensEqual('', token)).toBe(false);
  });

  it('hashes to SHA-256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
