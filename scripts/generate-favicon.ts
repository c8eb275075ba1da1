// Writes public/favicon.ico: the service icon (a white "Q" on an indigo rounded square) as a
// Windows ICO with 16×16 and 32×32 32-bit images, drawn here with 4×4 supersampling so the file
// is reproducible byte for byte from this script. Run: npx tsx scripts/generate-favicon.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

type Rgba = [number, number, number, number];
const BACKGROUND: Rgba = [67, 56, 202, 255]; // indigo-700
const INK: Rgba = [255, 255, 255, 255];
const SAMPLES = 4;

/** Coverage of the shapes at a point in unit coordinates (0..1 across the icon). */
function insideSquare(x: number, y: number): boolean {
  const r = 0.22; // corner radius
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function insideGlyph(x: number, y: number): boolean {
  const d = Math.hypot(x - 0.47, y - 0.47);
  const ring = d <= 0.29 && d >= 0.17;
  // The tail: a thick stroke from the ring's lower right out towards the corner.
  const [ax, ay, bx, by] = [0.55, 0.55, 0.8, 0.8];
  const t = Math.min(Math.max(((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0), 1);
  const tail = Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))) <= 0.065;
  return ring || tail;
}

function render(size: number): Rgba[] {
  const pixels: Rgba[] = [];
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let square = 0;
      let glyph = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = (px + (sx + 0.5) / SAMPLES) / size;
          const y = (py + (sy + 0.5) / SAMPLES) / size;
          if (insideSquare(x, y)) {
            square++;
            if (insideGlyph(x, y)) glyph++;
          }
        }
      }
      const n = SAMPLES * SAMPLES;
      const alpha = square / n;
      const ink = square === 0 ? 0 : glyph / square;
      const mix = (i: number) => Math.round(BACKGROUND[i]! * (1 - ink) + INK[i]! * ink);
      pixels.push([mix(0), mix(1), mix(2), Math.round(255 * alpha)]);
    }
  }
  return pixels;
}

/** One ICO image: BITMAPINFOHEADER, bottom-up BGRA rows, then an all-zero AND mask. */
function bmpImage(size: number): Buffer {
  const pixels = render(size);
  const maskRowBytes = Math.ceil(size / 32) * 4;
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0); // biSize
  header.writeInt32LE(size, 4); // biWidth
  header.writeInt32LE(size * 2, 8); // biHeight: XOR image + AND mask
  header.writeUInt16LE(1, 12); // biPlanes
  header.writeUInt16LE(32, 14); // biBitCount
  header.writeUInt32LE(0, 16); // BI_RGB
  header.writeUInt32LE(size * size * 4 + maskRowBytes * size, 20);
  const data = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    const sourceRow = size - 1 - row; // bottom-up
    for (let col = 0; col < size; col++) {
      const [r, g, b, a] = pixels[sourceRow * size + col]!;
      data.set([b, g, r, a], (row * size + col) * 4);
    }
  }
  return Buffer.concat([header, data, Buffer.alloc(maskRowBytes * size)]);
}

export function faviconIco(sizes: readonly number[] = [16, 32]): Buffer {
  const images = sizes.map(bmpImage);
  const directory = Buffer.alloc(6 + 16 * sizes.length);
  directory.writeUInt16LE(0, 0);
  directory.writeUInt16LE(1, 2); // type: icon
  directory.writeUInt16LE(sizes.length, 4);
  let offset = directory.length;
  sizes.forEach((size, i) => {
    const entry = 6 + 16 * i;
    directory.writeUInt8(size % 256, entry);
    directory.writeUInt8(size % 256, entry + 1);
    directory.writeUInt16LE(1, entry + 4); // planes
    directory.writeUInt16LE(32, entry + 6); // bits per pixel
    directory.writeUInt32LE(images[i]!.length, entry + 8);
    directory.writeUInt32LE(offset, entry + 12);
    offset += images[i]!.length;
  });
  return Buffer.concat([directory, ...images]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL("../public/favicon.ico", import.meta.url));
  const ico = faviconIco();
  writeFileSync(target, ico);
  console.log(`wrote ${target} (${ico.length} bytes)`);
}
