import { throwIfAborted } from '../errors.js';
import type { ProgressCallback } from '../types.js';
import { axisWeight } from './plan.js';
import type { AxisSpan, Tile, TilePlan } from './plan.js';

export interface TileRunner {
  concurrency: number;
  signal: AbortSignal | undefined;
  onProgress: ProgressCallback | undefined;
  /** Planes of each tile's result and of the blended rows. Default 3 (planar RGB). */
  planes?: number;
  /** Reads the model input of a tile (planar, readLength sized). */
  read(tile: Tile): Float32Array;
  /** Runs the model on it. */
  infer(tensor: Float32Array, tile: Tile): Promise<Float32Array>;
  /** Takes back a result once it is blended (a buffer to reuse for the next tile). */
  release?(out: Float32Array): void;
  /**
   * Receives finished rows: `rowCount` rows starting at image row `fromRow`, stored in `acc`
   * (planar, `planes` planes of `accRows` rows, first plane row = image row `accFirstRow`).
   */
  write(acc: Float32Array, accRows: number, fromRow: number, rowCount: number, accFirstRow: number): void;
}

function weights(span: AxisSpan, feather: number, length: number): Float32Array {
  const w = new Float32Array(span.writeEnd - span.writeStart);
  for (let i = 0; i < w.length; i++) w[i] = axisWeight(span, span.writeStart + i, feather, length);
  return w;
}

/**
 * Runs every tile of a plan and blends the results, one row of tiles at a time.
 *
 * Memory stays bounded by the tile size: only one band of rows (a tile's height plus the feather
 * ramp) of float accumulators is alive; rows no later tile touches are flushed to `write` at once.
 */
export async function runTiles(plan: TilePlan, runner: TileRunner): Promise<void> {
  const { width, height, feather, rows, cols } = plan;
  const planes = runner.planes ?? 3;
  const total = plan.tiles.length;
  let done = 0;
  const colWeights = cols.map((c) => weights(c, feather, width));
  let carry: { acc: Float32Array; rows: number; first: number } | undefined;

  for (let r = 0; r < rows.length; r++) {
    const ySpan = rows[r]!;
    const bandFirst = ySpan.writeStart;
    const bandRows = ySpan.writeEnd - ySpan.writeStart;
    const acc = new Float32Array(planes * bandRows * width);
    if (carry) {
      // Rows the previous band shares with this one (its lower feather ramp).
      for (let c = 0; c < planes; c++) {
        for (let y = Math.max(bandFirst, carry.first); y < carry.first + carry.rows; y++) {
          const src = (c * carry.rows + (y - carry.first)) * width;
          const dst = (c * bandRows + (y - bandFirst)) * width;
          acc.set(carry.acc.subarray(src, src + width), dst);
        }
      }
    }
    const rowWeights = weights(ySpan, feather, height);
    const rowTiles = plan.tiles.filter((t) => t.row === r);
    const accumulate = (tile: Tile, out: Float32Array) => {
      const tw = tile.x.readLength;
      const th = tile.y.readLength;
      const cw = colWeights[tile.col]!;
      const { writeStart: x0, writeEnd: x1, readStart: rx } = tile.x;
      for (let c = 0; c < planes; c++) {
        for (let y = ySpan.writeStart; y < ySpan.writeEnd; y++) {
          const wy = rowWeights[y - ySpan.writeStart]!;
          const src = (c * th + (y - ySpan.readStart)) * tw - rx;
          const dst = (c * bandRows + (y - bandFirst)) * width;
          for (let x = x0; x < x1; x++) acc[dst + x]! += wy * cw[x - x0]! * out[src + x]!;
        }
      }
    };

    // A small pool: `concurrency` tiles in flight, blended in plan order (floating-point sums
    // depend on their order, and the result must not depend on which tile finished first). A
    // tile starts only within `concurrency` of the next one to blend, so at most that many
    // results wait.
    const lanes = Math.min(runner.concurrency, rowTiles.length);
    let next = 0;
    let toBlend = 0;
    const finished = new Map<number, Float32Array>();
    const wake: (() => void)[] = [];
    let stopped = false;
    const blendInOrder = () => {
      for (let out = finished.get(toBlend); out !== undefined; out = finished.get(toBlend)) {
        finished.delete(toBlend);
        accumulate(rowTiles[toBlend]!, out);
        runner.release?.(out);
        toBlend += 1;
        done += 1;
        runner.onProgress?.({ done, total });
      }
      for (const w of wake.splice(0)) w();
    };
    const worker = async () => {
      while (next < rowTiles.length && !stopped) {
        throwIfAborted(runner.signal);
        if (next - toBlend >= lanes) {
          await new Promise<void>((resolve) => wake.push(resolve));
          continue;
        }
        const index = next++;
        const tile = rowTiles[index]!;
        const out = await runner.infer(runner.read(tile), tile);
        throwIfAborted(runner.signal);
        finished.set(index, out);
        blendInOrder();
      }
    };
    try {
      await Promise.all(Array.from({ length: lanes }, worker));
    } finally {
      // A failed lane must not leave another waiting for a blend that will never come.
      stopped = true;
      for (const w of wake.splice(0)) w();
    }

    const nextStart = r + 1 < rows.length ? rows[r + 1]!.writeStart : ySpan.writeEnd;
    runner.write(acc, bandRows, bandFirst, nextStart - bandFirst, bandFirst);
    // Only the rows the next band shares (its upper feather ramp) outlive this band.
    const keepRows = bandFirst + bandRows - nextStart;
    const kept = new Float32Array(planes * keepRows * width);
    for (let c = 0; c < planes; c++) {
      const from = (c * bandRows + (nextStart - bandFirst)) * width;
      kept.set(acc.subarray(from, from + keepRows * width), c * keepRows * width);
    }
    carry = { acc: kept, rows: keepRows, first: nextStart };
  }
}
