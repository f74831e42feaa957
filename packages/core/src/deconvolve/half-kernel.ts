/**
 * The blur kernel of a photo downscaled 2x (2x2 box): each tap's mass is moved to half its offset
 * from the centre and split bilinearly among the four nearest taps of the half grid, so the mass
 * is kept and a one-pixel-wide path stays connected (point sampling at stride 2 would drop taps).
 */
import type { BlurKernel } from '../types.js';

/** Side of the half kernel: the centre stays a tap, the reach halves (rounded out). */
function halfSide(side: number): number {
  return 2 * Math.ceil((side - 1) / 4) + 1;
}

export function halveKernel(kernel: BlurKernel): BlurKernel {
  const { width, height, data } = kernel;
  const hw = halfSide(width);
  const hh = halfSide(height);
  const out = new Float64Array(hw * hh);
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  const hcx = (hw - 1) / 2, hcy = (hh - 1) / 2;
  let sum = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x]!;
      if (v === 0) continue;
      const u = hcx + (x - cx) / 2;
      const t = hcy + (y - cy) / 2;
      const x0 = Math.floor(u), y0 = Math.floor(t);
      const fx = u - x0, fy = t - y0;
      const x1 = Math.min(hw - 1, x0 + 1), y1 = Math.min(hh - 1, y0 + 1);
      out[y0 * hw + x0]! += (1 - fx) * (1 - fy) * v;
      out[y0 * hw + x1]! += fx * (1 - fy) * v;
      out[y1 * hw + x0]! += (1 - fx) * fy * v;
      out[y1 * hw + x1]! += fx * fy * v;
      sum += v;
    }
  }
  const result = new Float32Array(hw * hh);
  for (let i = 0; i < out.length; i++) result[i] = out[i]! / sum;
  return { width: hw, height: hh, data: result };
}
