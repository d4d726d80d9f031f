import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const html = readFileSync(new URL('../../renderer/index.html', import.meta.url), 'utf8');
const policy = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
const directives = new Map(
  policy
    .split(';')
    .map((part) => part.trim().split(/\s+/))
    .map(([name = '', ...values]) => [name, values.join(' ')]),
);

test.each([
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['connect-src', "'self'"],
  ['img-src', "'self' data:"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
])('renderer CSP sets %s', (name, value) => {
  expect(directives.get(name)).toBe(value);
});

test('renderer CSP allows no remote hosts', () => {
  expect(policy).not.toMatch(/https?:|\*|unsafe-eval/);
});
