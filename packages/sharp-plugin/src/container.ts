/**
 * sharp can attach metadata to an output only from its input (keep*) or from files and strings
 * (withIccProfile(path), withExif(object)). To hand the deblurred pixels on with the input's ICC
 * profile, EXIF and XMP byte for byte, they are written into a lossless PNG "container" whose
 * iCCP, eXIf and iTXt chunks are added here; a new sharp instance reads it like any input.
 */
import { deflateSync } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC of type + data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Inserts chunks right after IHDR (before PLTE/IDAT, where iCCP and eXIf must be). */
export function insertPngChunks(png: Buffer, chunks: readonly Buffer[]): Buffer {
  if (chunks.length === 0) return png;
  if (png.length < 33 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('insertPngChunks: not a PNG starting with IHDR');
  }
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** iCCP chunk holding an ICC profile. */
export function iccpChunk(icc: Uint8Array): Buffer {
  return pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]));
}

/** iTXt chunk holding an XMP packet (uncompressed, as XMP readers expect). */
export function xmpChunk(xmp: Uint8Array): Buffer {
  return pngChunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), xmp]));
}

/** eXIf chunk holding a TIFF-structured EXIF block (no `Exif\0\0` prefix). */
export function exifChunk(tiff: Uint8Array): Buffer {
  return pngChunk('eXIf', tiff);
}

/** The colour space an ICC profile is made for (`RGB `, `GRAY`, `CMYK`...), from its header. */
export function iccColourSpace(icc: Uint8Array): string | undefined {
  if (icc.length < 128) return undefined;
  return Buffer.from(icc.buffer, icc.byteOffset, icc.byteLength).toString('latin1', 16, 20);
}

/**
 * Returns the EXIF block (TIFF structure, without the `Exif\0\0` APP1 prefix) with the IFD0
 * Orientation tag set to 1, because the pixels were already rotated upright. Returns `undefined`
 * when the block cannot be parsed: dropping EXIF beats keeping an orientation that would rotate
 * the picture a second time.
 */
export function uprightExif(exif: Uint8Array): Buffer | undefined {
  let tiff = Buffer.from(exif);
  if (tiff.length >= 6 && tiff.toString('latin1', 0, 6) === 'Exif\0\0') tiff = tiff.subarray(6);
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  const le = order === 'II';
  if (!le && order !== 'MM') return undefined;
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  if (u16(2) !== 42) return undefined;
  const ifd0 = u32(4);
  if (ifd0 + 2 > tiff.length) return undefined;
  const count = u16(ifd0);
  if (ifd0 + 2 + count * 12 > tiff.length) return undefined;
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (u16(entry) === 0x0112) {
      const type = u16(entry + 2);
      if (type !== 3) return undefined; // Orientation must be a SHORT
      if (le) tiff.writeUInt16LE(1, entry + 8);
      else tiff.writeUInt16BE(1, entry + 8);
    }
  }
  return tiff;
}
