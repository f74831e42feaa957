/**
 * Layout tracking: every device tensor carries a permutation `perm` telling how its physical axes
 * relate to the ONNX (logical) axes: physical axis `i` holds logical axis `perm[i]`, i.e.
 * `physical = transpose(logical, perm)`.
 *
 * Why: ONNX graphs are NCHW, TensorFlow.js convolutions and pools are NHWC. Rather than
 * transposing around each of the ~140 convolutions, conv outputs stay NHWC (`perm = [0, 2, 3, 1]`)
 * and the ops in between (elementwise, concat, reduce, slice, softmax, ...) work on whatever layout
 * their inputs have, by mapping their axes. ONNX `Transpose` only edits `perm`; reshapes move no
 * data whenever the physical order allows it ({@link planReshape}). Data is transposed only where
 * an op needs a specific layout and its input has another.
 */

export type Perm = readonly number[];

export function identityPerm(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

export function isIdentity(perm: Perm): boolean {
  return perm.every((p, i) => p === i);
}

export function samePerm(a: Perm, b: Perm): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/** NCHW logical axes stored as NHWC. */
export const NHWC: Perm = [0, 2, 3, 1];

/** The physical axis that holds logical axis `axis`. */
export function physicalAxis(perm: Perm, axis: number): number {
  return perm.indexOf(axis);
}

/** Logical (ONNX) shape from a physical shape and its perm. */
export function logicalShape(physical: readonly number[], perm: Perm): number[] {
  const out = new Array<number>(physical.length);
  for (let i = 0; i < physical.length; i++) out[perm[i]!] = physical[i]!;
  return out;
}

/** Physical shape of a logical shape stored with `perm`. */
export function physicalShape(logical: readonly number[], perm: Perm): number[] {
  return perm.map((axis) => logical[axis]!);
}

/** Maps a per-logical-axis list (pads, reps, sizes) to physical order. */
export function toPhysicalOrder<T>(perLogicalAxis: readonly T[], perm: Perm): T[] {
  return perm.map((axis) => perLogicalAxis[axis]!);
}

/**
 * The transpose that turns a tensor stored with `from` into one stored with `to` (same logical
 * tensor): `physical_to = transpose(physical_from, result)`.
 */
export function relayoutPerm(from: Perm, to: Perm): number[] {
  return to.map((axis) => from.indexOf(axis));
}

/**
 * Whether that relayout moves no data: true when the axes longer than 1 keep their order, so a
 * reshape does it (e.g. a `[1, C, 1, 1]` bias to NHWC).
 */
export function relayoutIsReshape(physical: readonly number[], transpose: readonly number[]): boolean {
  let last = -1;
  for (const src of transpose) {
    if (physical[src] === 1) continue;
    if (src < last) return false;
    last = src;
  }
  return true;
}

/** Perm after the ONNX `Transpose(perm = onnxPerm)` of a tensor stored with `perm`. */
export function composeTranspose(perm: Perm, onnxPerm: readonly number[]): number[] {
  const inverse = new Array<number>(onnxPerm.length);
  onnxPerm.forEach((axis, k) => {
    inverse[axis] = k;
  });
  return perm.map((axis) => inverse[axis]!);
}

/** Perm after removing logical `axes` (reductions without keepdims, squeeze, scalar gather). */
export function removeAxes(perm: Perm, axes: readonly number[]): number[] {
  const removed = new Set(axes);
  return perm
    .filter((axis) => !removed.has(axis))
    .map((axis) => axis - axes.filter((r) => r < axis).length);
}

export interface ReshapePlan {
  /** Shape to give the physical tensor (no data moves). */
  physicalShape: number[];
  /** Perm of the result. */
  perm: number[];
}

interface AxisGroup {
  inAxes: number[];
  outAxes: number[];
}

/**
 * Pairs runs of input axes with runs of output axes whose products match, ignoring axes of size 1
 * (`[N, 3C, H, W] -> [N, 3, C, H, W]` has groups {N}->{N}, {3C}->{3, C}, {H}->{H}, {W}->{W}).
 */
function groupAxes(inShape: readonly number[], outShape: readonly number[]): AxisGroup[] | undefined {
  const inAxes = inShape.flatMap((d, axis) => (d === 1 ? [] : [axis]));
  const outAxes = outShape.flatMap((d, axis) => (d === 1 ? [] : [axis]));
  const groups: AxisGroup[] = [];
  let i = 0;
  let j = 0;
  while (i < inAxes.length) {
    const group: AxisGroup = { inAxes: [inAxes[i]!], outAxes: [] };
    let inProduct = inShape[inAxes[i++]!]!;
    let outProduct = 1;
    while (inProduct !== outProduct) {
      if (outProduct < inProduct) {
        if (j >= outAxes.length) return undefined;
        group.outAxes.push(outAxes[j]!);
        outProduct *= outShape[outAxes[j++]!]!;
      } else {
        if (i >= inAxes.length) return undefined;
        group.inAxes.push(inAxes[i]!);
        inProduct *= inShape[inAxes[i++]!]!;
      }
    }
    groups.push(group);
  }
  return j === outAxes.length ? groups : undefined;
}

/** The non-1 axes of `perm` for `shape`, in physical order. */
function largeAxes(perm: Perm, shape: readonly number[]): number[] {
  return perm.filter((axis) => shape[axis] !== 1);
}

/**
 * Plans a reshape from logical `inShape` (stored with `perm`) to logical `outShape` that only
 * relabels the physical buffer. Returns undefined when the data would have to move, i.e. when
 * axes the reshape merges are not adjacent and in order in physical memory.
 *
 * Axes of size 1 are free to go anywhere; the others form groups ({@link groupAxes}) that must
 * each be contiguous physically; the output keeps the physical order of the groups. Size-1
 * output axes follow `preferred` when it orders the other axes the same way (so an NHWC result
 * is labelled NHWC), else each goes just after the previous larger-than-1 logical axis, or first
 * (so an identity layout stays identity, and a leading batch axis of 1 stays in front).
 */
export function planReshape(
  inShape: readonly number[],
  perm: Perm,
  outShape: readonly number[],
  preferred?: Perm,
): ReshapePlan | undefined {
  if (inShape.includes(0) || outShape.includes(0)) {
    return isIdentity(perm) ? { physicalShape: [...outShape], perm: identityPerm(outShape.length) } : undefined;
  }
  const groups = groupAxes(inShape, outShape);
  if (!groups) return undefined;
  const groupOfInAxis = new Map<number, AxisGroup>();
  for (const group of groups) for (const axis of group.inAxes) groupOfInAxis.set(axis, group);

  const physicalIn = largeAxes(perm, inShape);
  const orderedOut: number[] = [];
  for (let pos = 0; pos < physicalIn.length;) {
    const group = groupOfInAxis.get(physicalIn[pos]!)!;
    for (let t = 0; t < group.inAxes.length; t++) {
      if (physicalIn[pos + t] !== group.inAxes[t]) return undefined;
    }
    orderedOut.push(...group.outAxes);
    pos += group.inAxes.length;
  }

  if (preferred && preferred.length === outShape.length) {
    const preferredLarge = largeAxes(preferred, outShape);
    if (preferredLarge.length === orderedOut.length && preferredLarge.every((axis, k) => axis === orderedOut[k])) {
      return { physicalShape: physicalShape(outShape, preferred), perm: [...preferred] };
    }
  }
  const outAxes = outShape.flatMap((d, axis) => (d === 1 ? [] : [axis]));
  const ones = outShape.flatMap((d, axis) => (d === 1 ? [axis] : []));
  const previousLarger = (one: number) => outAxes.filter((axis) => axis < one).pop();
  const outPerm: number[] = ones.filter((one) => previousLarger(one) === undefined);
  for (const axis of orderedOut) {
    outPerm.push(axis);
    for (const one of ones) if (previousLarger(one) === axis) outPerm.push(one);
  }
  return { physicalShape: outPerm.map((axis) => outShape[axis]!), perm: outPerm };
}

/**
 * When {@link planReshape} fails: the layout to move the input to so that the reshape yields
 * `wanted` (e.g. NHWC for a conv that follows) with that single transpose, or undefined when
 * `wanted` splits a group of merged axes.
 */
export function layoutForReshape(
  inShape: readonly number[],
  outShape: readonly number[],
  wanted: Perm,
): number[] | undefined {
  const groups = groupAxes(inShape, outShape);
  if (!groups) return undefined;
  const groupOfOutAxis = new Map<number, AxisGroup>();
  for (const group of groups) for (const axis of group.outAxes) groupOfOutAxis.set(axis, group);
  const wantedLarge = largeAxes(wanted, outShape);
  const order: number[] = inShape.flatMap((d, axis) => (d === 1 ? [axis] : []));
  for (let pos = 0; pos < wantedLarge.length;) {
    const group = groupOfOutAxis.get(wantedLarge[pos]!)!;
    for (let t = 0; t < group.outAxes.length; t++) {
      if (wantedLarge[pos + t] !== group.outAxes[t]) return undefined;
    }
    order.push(...group.inAxes);
    pos += group.outAxes.length;
  }
  return order;
}
