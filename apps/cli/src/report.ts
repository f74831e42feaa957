/**
 * What `sgenet deblur` and `sgenet kernel` say about each photo: one human line (from core's
 * verdict helpers) or one JSON object (`--json`).
 */
import { KERNEL_VERDICT_TEXT, kernelToJson, kernelVerdict } from '@sgenet/core';
import type { KernelGrid, KernelUsed, KernelVerdict } from '@sgenet/core';

import { codeOf, messageOf } from './reason.js';

/** The kernel of a `sgenet deblur --json` line. */
export interface KernelReport {
  width: number;
  height: number;
  /** The estimator's confidence, 0 to 1, to 4 decimals (1 for a given PSF). */
  confidence: number;
  /** True when no blur was found: a 1x1 kernel, the network alone. */
  identity: boolean;
  /** `estimated` (`--kernel auto`) or `given` (a PSF file). */
  source: KernelUsed['source'];
  verdict: KernelVerdict;
  /**
   * Per-region kernels when the shake varied over the photo: cells across and down, and per cell
   * (row-major) whether it has its own kernel; absent for one kernel. `sgenet kernel --json`
   * prints the kernels themselves.
   */
  regions?: { columns: number; rows: number; own: boolean[] };
}

/** The error of a `sgenet deblur --json` line. */
export interface ErrorReport {
  /** Stable: `ERR_SGENET_...` (SGENet errors, the CLI's own), or a Node.js system code (`EACCES`). */
  code: string;
  message: string;
}

/** One line of `sgenet deblur --json`: one per input, written or failed. */
export interface DeblurReport {
  input: string;
  /** The file written; null when nothing was written. */
  output: string | null;
  /** The kernel used; null with `--kernel none`, or when the input failed before one was known. */
  kernel: KernelReport | null;
  /** Null when the output was written. */
  error: ErrorReport | null;
}

/** The kernel part of a JSON report. */
export function kernelReport(used: KernelUsed): KernelReport {
  return {
    width: used.kernel.width,
    height: used.kernel.height,
    confidence: Number(used.confidence.toFixed(4)),
    identity: used.identity,
    source: used.source,
    verdict: kernelVerdict(used),
    ...(used.grid ? { regions: { columns: used.grid.columns, rows: used.grid.rows, own: [...used.grid.own] } } : {}),
  };
}

/**
 * A kernel grid in `sgenet kernel --json`: cells across and down, the photo size it divides, and
 * per cell (row-major) its kernel in the JSON kernel form, whether it is the cell's own, and its
 * agreement with the photo's kernel (4 decimals).
 */
export function gridReport(grid: KernelGrid): object {
  return {
    columns: grid.columns, rows: grid.rows, width: grid.width, height: grid.height,
    kernels: grid.kernels.map((k) => JSON.parse(kernelToJson(k)) as object),
    own: [...grid.own],
    agreement: grid.agreement.map((a) => Number(a.toFixed(4))),
  };
}

/** The error part of a JSON report. */
export function errorReport(err: unknown): ErrorReport {
  return { code: codeOf(err), message: messageOf(err) };
}

/**
 * What a restoration found, for a person: core's verdict text (`no blur found: denoised only`,
 * `blur found, confident`, `blur found, uncertain`) followed, when a kernel was found, by its size
 * and confidence: `blur found, uncertain (17x9 px kernel, confidence 0.31)`. A PSF given with
 * `--kernel FILE` reads `deconvolved with the given 17x9 px kernel`; `undefined` (`--kernel none`)
 * reads `the network alone (--kernel none)`.
 */
export function describeFinding(used: KernelUsed | undefined): string {
  if (used === undefined) return 'the network alone (--kernel none)';
  if (used.source === 'given') return `deconvolved with the given ${used.kernel.width}x${used.kernel.height} px kernel`;
  const verdict = kernelVerdict(used);
  if (verdict === 'none') return KERNEL_VERDICT_TEXT.none;
  const regions = used.grid
    ? `; per-region kernels, ${used.grid.columns}x${used.grid.rows} grid, ${used.grid.own.filter(Boolean).length} cells with their own`
    : '';
  return `${KERNEL_VERDICT_TEXT[verdict]} (${used.kernel.width}x${used.kernel.height} px kernel, confidence ${used.confidence.toFixed(2)}${regions})`;
}
