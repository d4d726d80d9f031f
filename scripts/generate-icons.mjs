#!/usr/bin/env node
/**
 * Draws the app icons: resources/icon.png (512x512) and resources/tray.png
 * (32x32). The mark is a white "F" on a rounded green square with a gold
 * dot, drawn in unit coordinates so both sizes come from one shape, and
 * anti-aliased by 4x4 supersampling. PNG bytes are written by hand with
 * zlib so the script needs no image library.
 *
 * Usage: node scripts/generate-icons.mjs
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const SUPERSAMPLING = 4;

const BACKGROUND = [46, 125, 79];
const LETTER = [255, 255, 255];
const ACCENT = [242, 193, 78];

/** Rectangles of the "F", as [left, top, right, bottom] in unit coordinates. */
const LETTER_BARS = [
  [0.29, 0.23, 0.43, 0.77],
  [0.29, 0.23, 0.72, 0.37],
  [0.29, 0.44, 0.64, 0.57],
];
const ACCENT_CIRCLE = { x: 0.69, y: 0.68, r: 0.075 };
const CORNER_RADIUS = 0.22;

function insideRoundedSquare(x, y) {
  const cx = Math.min(Math.max(x, CORNER_RADIUS), 1 - CORNER_RADIUS);
  const cy = Math.min(Math.max(y, CORNER_RADIUS), 1 - CORNER_RADIUS);
  return (x - cx) ** 2 + (y - cy) ** 2 <= CORNER_RADIUS ** 2;
}

/** Returns the RGBA colour of one point in unit coordinates. */
function colourAt(x, y) {
  if (!insideRoundedSquare(x, y)) return [0, 0, 0, 0];
  if (LETTER_BARS.some(([left, top, right, bottom]) => x >= left && x <= right && y >= top && y <= bottom)) {
    return [...LETTER, 255];
  }
  if ((x - ACCENT_CIRCLE.x) ** 2 + (y - ACCENT_CIRCLE.y) ** 2 <= ACCENT_CIRCLE.r ** 2) return [...ACCENT, 255];
  return [...BACKGROUND, 255];
}

/** Averages the supersamples of one pixel, weighting colour by alpha. */
function pixel(px, py, size) {
  const sum = [0, 0, 0, 0];
  for (let sy = 0; sy < SUPERSAMPLING; sy++) {
    for (let sx = 0; sx < SUPERSAMPLING; sx++) {
      const [r, g, b, a] = colourAt((px + (sx + 0.5) / SUPERSAMPLING) / size, (py + (sy + 0.5) / SUPERSAMPLING) / size);
      sum[0] += r * a;
      sum[1] += g * a;
      sum[2] += b * a;
      sum[3] += a;
    }
  }
  if (sum[3] === 0) return [0, 0, 0, 0];
  const samples = SUPERSAMPLING * SUPERSAMPLING;
  return [sum[0] / sum[3], sum[1] / sum[3], sum[2] / sum[3], sum[3] / samples].map(Math.round);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** Encodes an 8-bit RGBA image; every row uses filter type 0 (none). */
function encodePng(size) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    const rowStart = y * (size * 4 + 1);
    for (let x = 0; x < size; x++) {
      Buffer.from(pixel(x, y, size)).copy(raw, rowStart + 1 + x * 4);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, default compression, filter, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

writeFileSync(`${root}resources/icon.png`, encodePng(512));
writeFileSync(`${root}resources/tray.png`, encodePng(32));
