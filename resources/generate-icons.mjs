// Regenerates the app and tray icons as PNGs with no dependencies: `node resources/generate-icons.mjs`.
// Shapes are drawn with anti-aliased distance fields so they stay crisp at 16 px and 512 px alike.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
function png(size, pixel) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) row.set(pixel(x + 0.5, y + 0.5, size), 1 + x * 4);
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const clamp = (v) => Math.max(0, Math.min(1, v));
const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));

/** Signed distance to a rounded square of half-size h and corner radius r, centred at c. */
function roundedSquare(x, y, c, h, r) {
  const dx = Math.abs(x - c) - (h - r);
  const dy = Math.abs(y - c) - (h - r);
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0) - r;
}

/** App icon: a blue-to-violet rounded square with a white open ring (a "C" for Cortex). */
function appIcon(x, y, size) {
  const c = size / 2;
  const shape = clamp(0.5 - roundedSquare(x, y, c, size * 0.46, size * 0.2));
  if (shape === 0) return [0, 0, 0, 0];
  const base = mix([79, 107, 237], [122, 79, 237], (x + y) / (2 * size));
  const radius = Math.hypot(x - c, y - c);
  const ring = clamp(0.5 - Math.abs(radius - size * 0.22) + size * 0.06);
  const angle = Math.atan2(y - c, x - c);
  const gap = Math.abs(angle) < 0.6 ? clamp((Math.abs(angle) - 0.45) * size * 0.1) : 1;
  const white = ring * gap;
  const rgb = mix(base, [255, 255, 255], white);
  return [...rgb, Math.round(255 * shape)];
}

/** Tray icon: a filled dot in the state's colour with a soft darker rim. */
function trayIcon(color) {
  return (x, y, size) => {
    const c = size / 2;
    const d = Math.hypot(x - c, y - c);
    const alpha = clamp(size * 0.4 - d + 0.5);
    const rim = clamp(d - size * 0.3);
    return [
      ...mix(
        color,
        color.map((v) => v * 0.7),
        rim,
      ),
      Math.round(255 * alpha),
    ];
  };
}

writeFileSync(join(here, 'icon.png'), png(512, appIcon));
const colors = { ok: [46, 170, 92], warn: [232, 163, 23], error: [214, 69, 65] };
for (const [state, color] of Object.entries(colors)) {
  writeFileSync(join(here, 'tray', `${state}.png`), png(16, trayIcon(color)));
  writeFileSync(join(here, 'tray', `${state}@2x.png`), png(32, trayIcon(color)));
}
console.log('icons written to', here);
