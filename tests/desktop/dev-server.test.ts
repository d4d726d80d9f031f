import { expect, test } from 'vitest';
import { DEFAULT_DEV_HUB_PORT, DevHubPortError, devHubPort } from '../../electron/main/dev-server.js';

test.each([
  [undefined, DEFAULT_DEV_HUB_PORT],
  ['', DEFAULT_DEV_HUB_PORT],
  ['9000', 9000],
])('dev hub port from %j', (raw, expected) => {
  expect(devHubPort({ FARMBOY_DEV_HUB_PORT: raw })).toBe(expected);
});

test.each(['0', '65536', '80.5', 'http'])('dev hub port rejects %j', (raw) => {
  expect(() => devHubPort({ FARMBOY_DEV_HUB_PORT: raw })).toThrow(DevHubPortError);
});
