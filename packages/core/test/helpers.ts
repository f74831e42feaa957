import type { Backend, ImageTensorDims, RawImage, Session, SessionRunOptions } from '../src/index.js';

/** A backend whose model is a pure function of the input tensor, computed in JS. */
export function functionBackend(
  fn: (input: Float32Array, dims: ImageTensorDims, options?: SessionRunOptions) => Float32Array,
  stats = { runs: 0 },
): Backend & { stats: { runs: number } } {
  return {
    name: 'test',
    stats,
    async load(): Promise<Session> {
      return {
        provider: 'js',
        async run(input, dims, options) {
          stats.runs += 1;
          return fn(input, dims, options);
        },
        async dispose() {},
      };
    },
  };
}

export const identityBackend = () => functionBackend((x) => new Float32Array(x));

/**
 * A local operator with a known receptive field of `radius` px: a box blur over a
 * (2r+1)^2 window with reflect borders, like a small convolutional network.
 */
export function boxBlurBackend(radius: number) {
  return functionBackend((x, dims) => {
    const [, c, h, w] = dims;
    const out = new Float32Array(x.length);
    const refl = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          let s = 0;
          for (let dy = -radius; dy <= radius; dy++) {
            for (let dx = -radius; dx <= radius; dx++) {
              s += x[ch * h * w + refl(y + dy, h) * w + refl(xx + dx, w)]!;
            }
          }
          out[ch * h * w + y * w + xx] = s / (2 * radius + 1) ** 2;
        }
      }
    }
    return out;
  });
}

/** Deterministic pseudo-random image. */
export function noiseImage(width: number, height: number, channels: 1 | 2 | 3 | 4, depth: 8 | 16 = 8): RawImage {
  const n = width * height * channels;
  const data = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  let s = 12345;
  const max = depth === 8 ? 256 : 65536;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s >>> 8) % max;
  }
  return { data, width, height, channels };
}

/** Max |a-b| over pixels at least `margin` px from every image border. */
export function maxInteriorDiff(a: RawImage, b: RawImage, margin: number): number {
  let m = 0;
  for (let y = margin; y < a.height - margin; y++) {
    for (let x = margin; x < a.width - margin; x++) {
      for (let c = 0; c < a.channels; c++) {
        const i = (y * a.width + x) * a.channels + c;
        m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
      }
    }
  }
  return m;
}

/**
 * The bytes of an ONNX ModelProto holding only what core reads: an ir_version, an empty graph and
 * `metadata_props` (a stand-in model for a test backend that computes its "model" in JS).
 */
export function metadataModel(props: Record<string, string>): Uint8Array {
  const bytes: number[] = [];
  const varint = (v: number) => {
    for (; v > 0x7f; v >>>= 7) bytes.push((v & 0x7f) | 0x80);
    bytes.push(v);
  };
  const field = (n: number, payload: Uint8Array) => {
    varint((n << 3) | 2);
    varint(payload.length);
    bytes.push(...payload);
  };
  const utf8 = (s: string) => new TextEncoder().encode(s);
  varint((1 << 3) | 0);
  varint(8); // ir_version 8
  field(7, new Uint8Array(0)); // graph
  for (const [k, v] of Object.entries(props)) {
    const entry: number[] = [];
    for (const [n, s] of [[1, utf8(k)], [2, utf8(v)]] as const) entry.push((n << 3) | 2, s.length, ...s);
    field(14, Uint8Array.from(entry));
  }
  return Uint8Array.from(bytes);
}

/**
 * A noise-conditioned test backend (an SGENet-σ stand-in): returns its input and records the σ of
 * every run (`undefined` when none was given).
 */
export function sigmaRecordingBackend(): Backend & { sigmas: (number | undefined)[] } {
  const sigmas: (number | undefined)[] = [];
  return Object.assign(functionBackend((input, _dims, options) => {
    sigmas.push(options?.sigma);
    return new Float32Array(input);
  }), { sigmas });
}
