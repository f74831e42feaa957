/**
 * Per-op checks: each case is a small ONNX model (mostly one node) built in memory, run on ONNX
 * Runtime and on this backend's cpu and wasm platforms; outputs must match.
 */
import { describe, expect, it } from 'vitest';

import type { TensorData } from '../src/index.js';
import { encodeModel, oneNodeModel } from './helpers/onnx-builder.js';
import type { AttributeSpec, TensorSpec } from './helpers/onnx-builder.js';
import { compareWithOrt, floatFeed, randomData } from './helpers/reference.js';

interface OpCase {
  name: string;
  model: Uint8Array;
  feeds: Record<string, TensorData>;
  int64Inputs?: string[];
}

const TOLERANCE = { cpu: 1e-5, wasm: 1e-4 } as const;

let seed = 1;
const weights = (name: string, dims: number[], encoding: TensorSpec['encoding'] = 'raw'): TensorSpec => ({
  name, dtype: 'float32', dims, values: randomData(dims, seed++, -0.5, 0.5), encoding,
});
const ints = (name: string, values: number[], encoding: TensorSpec['encoding'] = 'raw'): TensorSpec => ({
  name, dtype: 'int64', dims: [values.length], values, encoding,
});
const floats = (name: string, values: number[], dims: number[] = [values.length]): TensorSpec => ({
  name, dtype: 'float32', dims, values,
});

/** One node on input x0 of `dims` (random in [low, high)), plus initializers. */
function unaryCase(name: string, op: string, dims: number[], options: {
  attrs?: Record<string, AttributeSpec>;
  initializers?: TensorSpec[];
  nodeInputs?: string[];
  outputs?: number;
  opset?: number;
  low?: number;
  high?: number;
} = {}): OpCase {
  return {
    name,
    model: oneNodeModel({
      op,
      inputs: [{ name: 'x0', dims }],
      ...(options.initializers ? { initializers: options.initializers } : {}),
      ...(options.nodeInputs ? { nodeInputs: options.nodeInputs } : {}),
      ...(options.attrs ? { attrs: options.attrs } : {}),
      ...(options.outputs ? { outputs: Array.from({ length: options.outputs }, (_, i) => ({ name: `y${i}` })) } : {}),
      ...(options.opset ? { opset: options.opset } : {}),
    }),
    feeds: { x0: floatFeed(dims, seed++, options.low ?? -1, options.high ?? 1) },
  };
}

/** Several float inputs x0, x1, ... of the given dims. */
function naryCase(name: string, op: string, dims: number[][], attrs?: Record<string, AttributeSpec>): OpCase {
  const inputs = dims.map((d, i) => ({ name: `x${i}`, dims: d }));
  return {
    name,
    model: oneNodeModel({ op, inputs, ...(attrs ? { attrs } : {}) }),
    feeds: Object.fromEntries(inputs.map((input) => [input.name, floatFeed(input.dims, seed++)])),
  };
}

function conv(name: string, x: number[], w: number[], attrs: Record<string, AttributeSpec>, bias = true): OpCase {
  const initializers = [weights('w', w), ...(bias ? [weights('b', [w[0]!], 'typed')] : [])];
  return unaryCase(name, 'Conv', x, { initializers, attrs });
}

/** A chain of nodes over input x (dims), output y. */
function graphCase(name: string, dims: number[], nodes: Parameters<typeof encodeModel>[0]['nodes'], initializers: TensorSpec[] = [], outputs = ['y']): OpCase {
  return {
    name,
    model: encodeModel({ nodes, inputs: [{ name: 'x', dims }], outputs: outputs.map((n) => ({ name: n })), initializers }),
    feeds: { x: floatFeed(dims, seed++) },
  };
}

const NCHW = [1, 4, 7, 9];

const cases: OpCase[] = [
  // ---- Conv
  conv('Conv 3x3 pads 1 with bias', NCHW, [6, 4, 3, 3], { pads: { ints: [1, 1, 1, 1] } }),
  conv('Conv stride 2, asymmetric pads, no bias', [1, 3, 8, 9], [5, 3, 3, 3], { strides: { ints: [2, 2] }, pads: { ints: [0, 1, 1, 0] } }, false),
  conv('Conv dilation 2', [1, 4, 9, 8], [4, 4, 3, 3], { dilations: { ints: [2, 2] }, pads: { ints: [2, 2, 2, 2] } }),
  conv('Conv dilation 4 (SGENet branch)', [1, 4, 12, 10], [4, 4, 3, 3], { dilations: { ints: [4, 4] }, pads: { ints: [4, 4, 4, 4] } }),
  conv('Conv dilation 2 with stride 2', [1, 3, 11, 10], [4, 3, 3, 3], { dilations: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads: { ints: [2, 1, 2, 1] } }),
  conv('Conv group 2', [1, 4, 6, 7], [6, 2, 3, 3], { group: { int: 2 }, pads: { ints: [1, 1, 1, 1] } }),
  conv('Conv depthwise, multiplier 2', [1, 4, 6, 7], [8, 1, 3, 3], { group: { int: 4 }, pads: { ints: [1, 1, 1, 1] } }),
  conv('Conv auto_pad SAME_UPPER stride 2', [1, 3, 7, 8], [4, 3, 3, 3], { auto_pad: { string: 'SAME_UPPER' }, strides: { ints: [2, 2] } }),
  conv('Conv auto_pad SAME_LOWER', [1, 3, 6, 6], [4, 3, 2, 2], { auto_pad: { string: 'SAME_LOWER' } }),
  conv('Conv 1x1, batch 2', [2, 5, 4, 6], [3, 5, 1, 1], {}),
  conv('Conv 2x2 stride 2 (downsampling)', [1, 4, 8, 6], [8, 4, 2, 2], { strides: { ints: [2, 2] } }),
  conv('Conv 5x3 kernel', [1, 2, 9, 7], [3, 2, 5, 3], { pads: { ints: [2, 1, 2, 1] } }),
  conv('Conv 1-D', [1, 3, 10], [4, 3, 3], { pads: { ints: [1, 1] } }),

  // ---- Conv rewrites (fused activations, CRD pixel shuffle) and mixed layouts
  ...(['Relu', 'Sigmoid', 'LeakyRelu'] as const).map((act) => graphCase(`Conv -> ${act} (fused)`, [1, 3, 6, 5], [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: act, inputs: ['c'], outputs: ['y'], ...(act === 'LeakyRelu' ? { attrs: { alpha: { float: 0.1 } } } : {}) },
  ], [weights('w', [4, 3, 3, 3]), weights('b', [4])])),
  graphCase('Convs -> Concat -> LeakyRelu -> Conv (DRB)', [1, 4, 9, 8], [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Conv', inputs: ['x', 'w2', 'b2'], outputs: ['c2'], attrs: { pads: { ints: [2, 2, 2, 2] }, dilations: { ints: [2, 2] } } },
    { op: 'Concat', inputs: ['c1', 'c2'], outputs: ['cat'], attrs: { axis: { int: 1 } } },
    { op: 'LeakyRelu', inputs: ['cat'], outputs: ['act'], attrs: { alpha: { float: 0.1 } } },
    { op: 'Conv', inputs: ['act', 'w3', 'b3'], outputs: ['f'] },
    { op: 'Add', inputs: ['x', 'f'], outputs: ['y'] },
  ], [weights('w1', [4, 4, 3, 3]), weights('b1', [4]), weights('w2', [4, 4, 3, 3]), weights('b2', [4]), weights('w3', [4, 8, 1, 1]), weights('b3', [4])]),
  graphCase('Conv -> DepthToSpace CRD (channel-permuted weights)', [1, 4, 5, 6], [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'DepthToSpace', inputs: ['c'], outputs: ['y'], attrs: { blocksize: { int: 2 }, mode: { string: 'CRD' } } },
  ], [weights('w', [12, 4, 3, 3]), weights('b', [12])]),
  graphCase('Conv output read twice, NHWC + NCHW add', [1, 3, 6, 7], [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Add', inputs: ['x', 'c'], outputs: ['s'] },
    { op: 'Mul', inputs: ['c', 's'], outputs: ['y'] },
  ], [weights('w', [3, 3, 3, 3]), weights('b', [3])]),
  graphCase('Conv -> Transpose -> Reshape -> Softmax (layout tracking)', [1, 6, 4, 5], [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
    { op: 'Transpose', inputs: ['c'], outputs: ['t'], attrs: { perm: { ints: [0, 2, 3, 1] } } },
    { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['r'] },
    { op: 'Softmax', inputs: ['r'], outputs: ['y'], attrs: { axis: { int: -1 } } },
  ], [weights('w', [6, 6, 1, 1]), weights('b', [6]), ints('shape', [1, 20, 6])]),

  graphCase('Conv -> pixel unshuffle (NHWC source, 5-D relayout)', [1, 3, 16, 12], [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Reshape', inputs: ['c', 's1'], outputs: ['r1'] },
    { op: 'Transpose', inputs: ['r1'], outputs: ['t'], attrs: { perm: { ints: [0, 1, 3, 5, 2, 4] } } },
    { op: 'Reshape', inputs: ['t', 's2'], outputs: ['u'] },
    { op: 'Conv', inputs: ['u', 'w2', 'b2'], outputs: ['y'] },
  ], [weights('w', [5, 3, 3, 3]), weights('b', [5]), ints('s1', [1, 5, 8, 2, 6, 2]), ints('s2', [1, 20, 8, 6]), weights('w2', [4, 20, 1, 1]), weights('b2', [4])]),
  graphCase('Concat of narrow NHWC maps, many rows', [1, 3, 40, 36], [
    { op: 'AveragePool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Sub', inputs: ['x', 'p'], outputs: ['h'] },
    { op: 'Concat', inputs: ['p', 'h'], outputs: ['y'], attrs: { axis: { int: 1 } } },
  ]),
  graphCase('Concat of wide NHWC maps, many rows', [1, 4, 36, 40], [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'] },
    { op: 'Conv', inputs: ['x', 'w2', 'b2'], outputs: ['c2'] },
    { op: 'Concat', inputs: ['c1', 'c2', 'x'], outputs: ['y'], attrs: { axis: { int: 1 } } },
  ], [weights('w1', [16, 4, 1, 1]), weights('b1', [16]), weights('w2', [12, 4, 1, 1]), weights('b2', [12])]),
  graphCase('Concat -> 3x3 stride-2 Conv -> Sigmoid (conv over concat)', [1, 4, 9, 10], [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Conv', inputs: ['x', 'w2', 'b2'], outputs: ['c2'] },
    { op: 'Concat', inputs: ['c1', 'c2'], outputs: ['cat'], attrs: { axis: { int: 1 } } },
    { op: 'Conv', inputs: ['cat', 'w3', 'b3'], outputs: ['f'], attrs: { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] } } },
    { op: 'Sigmoid', inputs: ['f'], outputs: ['y'] },
  ], [weights('w1', [5, 4, 3, 3]), weights('b1', [5]), weights('w2', [3, 4, 1, 1]), weights('b2', [3]), weights('w3', [6, 8, 3, 3]), weights('b3', [6])]),

  // ---- Elementwise
  unaryCase('Relu', 'Relu', NCHW),
  unaryCase('LeakyRelu alpha 0.2', 'LeakyRelu', NCHW, { attrs: { alpha: { float: 0.2 } } }),
  unaryCase('Sigmoid', 'Sigmoid', NCHW, { low: -6, high: 6 }),
  unaryCase('Tanh', 'Tanh', NCHW),
  unaryCase('Exp', 'Exp', NCHW),
  unaryCase('Log', 'Log', NCHW, { low: 0.1, high: 4 }),
  unaryCase('Sqrt', 'Sqrt', NCHW, { low: 0, high: 4 }),
  unaryCase('Abs', 'Abs', NCHW),
  unaryCase('Neg', 'Neg', NCHW),
  unaryCase('Reciprocal', 'Reciprocal', NCHW, { low: 0.5, high: 2 }),
  unaryCase('Floor', 'Floor', NCHW, { low: -3, high: 3 }),
  unaryCase('Ceil', 'Ceil', NCHW, { low: -3, high: 3 }),
  unaryCase('Erf', 'Erf', NCHW),
  unaryCase('Softplus', 'Softplus', NCHW),
  unaryCase('Elu', 'Elu', NCHW),
  unaryCase('HardSigmoid', 'HardSigmoid', NCHW, { low: -4, high: 4 }),
  unaryCase('HardSwish', 'HardSwish', NCHW, { low: -4, high: 4 }),
  unaryCase('Identity', 'Identity', NCHW),
  unaryCase('Clip (opset 17 bounds as inputs)', 'Clip', NCHW, { initializers: [floats('lo', [-0.3], []), floats('hi', [0.4], [])] }),
  unaryCase('Clip (only max)', 'Clip', NCHW, { initializers: [floats('hi', [0.4], [])], nodeInputs: ['x0', '', 'hi'] }),
  unaryCase('PRelu per-channel slope', 'PRelu', NCHW, { initializers: [weights('slope', [4, 1, 1])] }),
  unaryCase('Pow by constant', 'Pow', NCHW, { low: 0.1, high: 2, initializers: [floats('e', [2.5], [])] }),
  naryCase('Add with broadcasting', 'Add', [NCHW, [4, 1, 1]]),
  naryCase('Sub with broadcasting', 'Sub', [[1, 4, 1, 9], NCHW]),
  naryCase('Mul with a scalar', 'Mul', [NCHW, []]),
  unaryCase('Div by a constant', 'Div', NCHW, { initializers: [weights('d', [9])] }),
  naryCase('Max of three', 'Max', [NCHW, [1, 4, 7, 1], [9]]),
  naryCase('Min', 'Min', [NCHW, NCHW]),
  naryCase('Sum of three', 'Sum', [NCHW, NCHW, [1]]),
  naryCase('Mean', 'Mean', [NCHW, NCHW]),
  graphCase('Greater -> Where', NCHW, [
    { op: 'Greater', inputs: ['x', 'zero'], outputs: ['m'] },
    { op: 'Where', inputs: ['m', 'x', 'half'], outputs: ['y'] },
  ], [floats('zero', [0], []), floats('half', [0.5], [])]),
  graphCase('Cast to int32 and back', NCHW, [
    { op: 'Mul', inputs: ['x', 'ten'], outputs: ['m'] },
    { op: 'Cast', inputs: ['m'], outputs: ['i'], attrs: { to: { int: 6 } } },
    { op: 'Cast', inputs: ['i'], outputs: ['y'], attrs: { to: { int: 1 } } },
  ], [floats('ten', [10], [])]),

  // ---- Shape ops
  naryCase('Concat axis 1', 'Concat', [NCHW, [1, 2, 7, 9], [1, 3, 7, 9]], { axis: { int: 1 } }),
  naryCase('Concat axis -1 (negative attribute)', 'Concat', [NCHW, [1, 4, 7, 2]], { axis: { int: -1 } }),
  unaryCase('Reshape with 0 and -1', 'Reshape', [2, 4, 6, 5], { initializers: [ints('s', [0, 2, -1, 5], 'typed')] }),
  unaryCase('Transpose', 'Transpose', [2, 3, 4, 5], { attrs: { perm: { ints: [3, 1, 0, 2] } } }),
  unaryCase('Transpose default (reverse)', 'Transpose', [2, 3, 4]),
  unaryCase('Flatten axis 2', 'Flatten', [2, 3, 4, 5], { attrs: { axis: { int: 2 } } }),
  unaryCase('Slice with axes and steps', 'Slice', [2, 6, 7, 9], {
    initializers: [ints('s', [1, 0, -7]), ints('e', [5, 9223372036854775807, -1]), ints('a', [1, 3, 2]), ints('st', [2, 3, 1])],
  }),
  unaryCase('Slice to an empty axis', 'Slice', [1, 4, 7, 9], {
    initializers: [ints('s', [2, 0]), ints('e', [-9223372036854775807, 3]), ints('a', [3, 2])],
  }),
  unaryCase('Slice with a negative step', 'Slice', [1, 4, 7, 9], {
    initializers: [ints('s', [-2]), ints('e', [-9223372036854775807]), ints('a', [-1], 'typed'), ints('st', [-2], 'typed')],
  }),
  unaryCase('Split with sizes', 'Split', [1, 5, 4, 6], { initializers: [ints('split', [2, 3])], attrs: { axis: { int: 1 } }, outputs: 2 }),
  {
    name: 'Split with an output nobody reads',
    model: encodeModel({
      nodes: [
        { op: 'Split', inputs: ['x', 'sizes'], outputs: ['a', 'unused', 'b'], attrs: { axis: { int: 1 } } },
        { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 6, 4, 5] }],
      outputs: [{ name: 'y' }, { name: 'b' }],
      initializers: [ints('sizes', [2, 2, 2])],
    }),
    feeds: { x: floatFeed([1, 6, 4, 5], seed++) },
  },
  unaryCase('Split evenly on the last axis', 'Split', [1, 2, 4, 6], { attrs: { axis: { int: -1 } }, outputs: 3 }),
  unaryCase('Squeeze', 'Squeeze', [1, 4, 1, 9], { initializers: [ints('a', [2])] }),
  unaryCase('Unsqueeze axes 1 and -1', 'Unsqueeze', [2, 4, 3], { initializers: [ints('a', [1, -1])] }),
  unaryCase('Gather axis 1 with a negative index', 'Gather', NCHW, {
    initializers: [ints('i', [2, 0, -1])], attrs: { axis: { int: 1 } },
  }),
  unaryCase('Gather scalar index', 'Gather', NCHW, {
    initializers: [{ name: 'i', dtype: 'int64', dims: [], values: [3] }], attrs: { axis: { int: 2 } },
  }),
  unaryCase('Gather 2-D indices', 'Gather', [5, 3, 2], {
    initializers: [{ name: 'i', dtype: 'int64', dims: [2, 2], values: [4, 0, 1, 1] }],
  }),
  unaryCase('Expand', 'Expand', [1, 4, 1, 9], { initializers: [ints('shape', [2, 1, 3, 1])] }),
  unaryCase('Tile', 'Tile', [1, 2, 3, 4], { initializers: [ints('r', [2, 1, 2, 3])] }),
  graphCase('Shape -> Gather -> Concat -> Reshape (exporter shape math)', [2, 6, 4, 5], [
    { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
    { op: 'Gather', inputs: ['shape', 'idx'], outputs: ['nc'], attrs: { axis: { int: 0 } } },
    { op: 'Concat', inputs: ['nc', 'minus1'], outputs: ['target'], attrs: { axis: { int: 0 } } },
    { op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'] },
  ], [ints('idx', [0, 1]), ints('minus1', [-1])]),
  graphCase('Shape(start, end) -> ConstantOfShape -> Add', [2, 3, 4], [
    { op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: { start: { int: -2 } } },
    { op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], attrs: { value: { tensor: { dtype: 'float32', dims: [1], values: [0.25] } } } },
    { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
  ]),
  graphCase('Constant node', NCHW, [
    { op: 'Constant', inputs: [], outputs: ['k'], attrs: { value: { tensor: { dtype: 'float32', dims: [4, 1, 1], values: [1, -2, 3, 0.5] } } } },
    { op: 'Mul', inputs: ['x', 'k'], outputs: ['y'] },
  ]),
  graphCase('pixel unshuffle as exported (Reshape/Transpose 6-D)', [1, 3, 8, 6], [
    { op: 'Reshape', inputs: ['x', 's1'], outputs: ['r1'] },
    { op: 'Transpose', inputs: ['r1'], outputs: ['t'], attrs: { perm: { ints: [0, 1, 3, 5, 2, 4] } } },
    { op: 'Reshape', inputs: ['t', 's2'], outputs: ['y'] },
  ], [ints('s1', [1, 3, 4, 2, 3, 2]), ints('s2', [1, 12, 4, 3])]),

  // ---- Depth <-> space
  unaryCase('DepthToSpace DCR', 'DepthToSpace', [1, 8, 3, 4], { attrs: { blocksize: { int: 2 } } }),
  unaryCase('DepthToSpace CRD', 'DepthToSpace', [1, 8, 3, 4], { attrs: { blocksize: { int: 2 }, mode: { string: 'CRD' } } }),
  unaryCase('SpaceToDepth', 'SpaceToDepth', [1, 3, 6, 4], { attrs: { blocksize: { int: 2 } } }),

  // ---- Pools
  unaryCase('AveragePool 3x3 pads 1, count_include_pad 0', 'AveragePool', NCHW, { attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } }),
  unaryCase('AveragePool 3x3 pads 1, count_include_pad 1', 'AveragePool', NCHW, { attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { int: 1 } } }),
  unaryCase('AveragePool 9x1 (SGENet local context)', 'AveragePool', [1, 4, 12, 5], { attrs: { kernel_shape: { ints: [9, 1] }, pads: { ints: [4, 0, 4, 0] } } }),
  unaryCase('AveragePool 1x9', 'AveragePool', [1, 4, 5, 12], { attrs: { kernel_shape: { ints: [1, 9] }, pads: { ints: [0, 4, 0, 4] } } }),
  unaryCase('AveragePool 2x2 stride 2', 'AveragePool', [1, 3, 8, 6], { attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } }),
  unaryCase('AveragePool asymmetric pads', 'AveragePool', NCHW, { attrs: { kernel_shape: { ints: [3, 2] }, pads: { ints: [0, 1, 2, 0] } } }),
  unaryCase('AveragePool stride 2 ceil_mode', 'AveragePool', [1, 2, 8, 7], { attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, ceil_mode: { int: 1 } } }),
  unaryCase('AveragePool ceil_mode, count_include_pad 1', 'AveragePool', [1, 2, 8, 7], { attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, ceil_mode: { int: 1 }, count_include_pad: { int: 1 } } }),
  unaryCase('MaxPool 3x3 stride 2 pads 1', 'MaxPool', NCHW, { attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } } }),
  unaryCase('MaxPool 3x3 same', 'MaxPool', NCHW, { attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } }),
  unaryCase('MaxPool ceil_mode', 'MaxPool', [1, 2, 8, 7], { attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { int: 1 } } }),
  unaryCase('AveragePool 1-D', 'AveragePool', [1, 3, 11], { attrs: { kernel_shape: { ints: [3] }, pads: { ints: [1, 1] } } }),
  unaryCase('MaxPool 1-D stride 2', 'MaxPool', [1, 3, 11], { attrs: { kernel_shape: { ints: [3] }, strides: { ints: [2] } } }),
  unaryCase('GlobalAveragePool', 'GlobalAveragePool', NCHW),
  unaryCase('GlobalMaxPool', 'GlobalMaxPool', NCHW),

  // ---- Reductions, softmax
  unaryCase('ReduceSum over axis 1 of 5-D, keepdims 0', 'ReduceSum', [1, 3, 4, 5, 6], { initializers: [ints('a', [1])], attrs: { keepdims: { int: 0 } } }),
  unaryCase('ReduceSum axes -1, keepdims 1', 'ReduceSum', NCHW, { initializers: [ints('a', [-1])] }),
  unaryCase('ReduceSum over everything', 'ReduceSum', NCHW),
  unaryCase('ReduceMean axes attribute', 'ReduceMean', NCHW, { attrs: { axes: { ints: [2, 3] } } }),
  unaryCase('ReduceMax', 'ReduceMax', NCHW, { attrs: { axes: { ints: [1] }, keepdims: { int: 0 } } }),
  unaryCase('Softmax axis 1 of 5-D', 'Softmax', [1, 3, 4, 5, 6], { attrs: { axis: { int: 1 } } }),
  unaryCase('Softmax default axis', 'Softmax', NCHW),
  unaryCase('LogSoftmax axis 2', 'LogSoftmax', NCHW, { attrs: { axis: { int: 2 } } }),
  unaryCase('Softmax opset 11 (flattened rows)', 'Softmax', NCHW, { attrs: { axis: { int: 2 } }, opset: 11 }),

  // ---- Resize
  unaryCase('Resize nearest asymmetric floor x2', 'Resize', [1, 3, 4, 5], {
    initializers: [floats('scales', [1, 1, 2, 2])], nodeInputs: ['x0', '', 'scales'],
    attrs: { mode: { string: 'nearest' }, coordinate_transformation_mode: { string: 'asymmetric' }, nearest_mode: { string: 'floor' } },
  }),
  unaryCase('Resize nearest half_pixel to sizes (downsampling)', 'Resize', [1, 2, 9, 10], {
    initializers: [ints('sizes', [1, 2, 4, 6])], nodeInputs: ['x0', '', '', 'sizes'], attrs: { mode: { string: 'nearest' } },
  }),
  unaryCase('Resize linear half_pixel x2', 'Resize', [1, 3, 4, 5], {
    initializers: [floats('scales', [1, 1, 2, 2])], nodeInputs: ['x0', '', 'scales'], attrs: { mode: { string: 'linear' } },
  }),
  unaryCase('Resize linear align_corners to sizes', 'Resize', [1, 2, 5, 4], {
    initializers: [ints('sizes', [1, 2, 9, 7])], nodeInputs: ['x0', '', '', 'sizes'],
    attrs: { mode: { string: 'linear' }, coordinate_transformation_mode: { string: 'align_corners' } },
  }),
  unaryCase('Resize linear pytorch_half_pixel x0.5', 'Resize', [1, 2, 8, 6], {
    initializers: [floats('scales', [1, 1, 0.5, 0.5])], nodeInputs: ['x0', '', 'scales'],
    attrs: { mode: { string: 'linear' }, coordinate_transformation_mode: { string: 'pytorch_half_pixel' } },
  }),

  // ---- Pad
  unaryCase('Pad constant', 'Pad', NCHW, { initializers: [ints('p', [0, 0, 1, 2, 0, 1, 3, 0]), floats('v', [0.5], [])] }),
  unaryCase('Pad reflect', 'Pad', NCHW, { initializers: [ints('p', [0, 0, 2, 1, 0, 0, 1, 3])], attrs: { mode: { string: 'reflect' } } }),
  unaryCase('Pad edge', 'Pad', NCHW, { initializers: [ints('p', [0, 0, 2, 1, 0, 0, 1, 3])], attrs: { mode: { string: 'edge' } } }),
  unaryCase('Pad wrap (opset 19)', 'Pad', NCHW, { initializers: [ints('p', [0, 0, 2, 1, 0, 0, 1, 3])], attrs: { mode: { string: 'wrap' } }, opset: 19 }),
  unaryCase('Pad on chosen axes (opset 18)', 'Pad', NCHW, { initializers: [ints('p', [1, 2, 0, 1]), floats('v', [0.25], []), ints('axes', [2, -1])], opset: 18 }),
  unaryCase('Pad with negative pads (crop)', 'Pad', NCHW, { initializers: [ints('p', [0, 0, -1, 2, 0, 0, 1, -3])] }),

  // ---- Linear algebra, normalisation
  unaryCase('MatMul 3-D x 2-D', 'MatMul', [2, 3, 4], { initializers: [weights('w', [4, 5])] }),
  unaryCase('MatMul vector x matrix', 'MatMul', [4], { initializers: [weights('w', [4, 3])] }),
  unaryCase('Gemm transB alpha beta', 'Gemm', [3, 4], {
    initializers: [weights('w', [5, 4]), weights('c', [5])],
    attrs: { transB: { int: 1 }, alpha: { float: 0.5 }, beta: { float: 2 } },
  }),
  unaryCase('BatchNormalization', 'BatchNormalization', NCHW, {
    initializers: [weights('scale', [4]), weights('bias', [4]), weights('mean', [4]), floats('var', [0.5, 1, 2, 0.25])],
  }),
  unaryCase('InstanceNormalization', 'InstanceNormalization', NCHW, { initializers: [weights('scale', [4]), weights('bias', [4])] }),
  unaryCase('LayerNormalization last axis', 'LayerNormalization', [2, 3, 8], {
    initializers: [weights('scale', [8]), weights('bias', [8])], attrs: { axis: { int: -1 } },
  }),
];

describe.each(['cpu', 'wasm'] as const)('ops on %s vs ONNX Runtime', (platform) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { maxAbsDiff } = await compareWithOrt(c.model, c.feeds, platform, c.int64Inputs);
    expect(maxAbsDiff).toBeLessThan(TOLERANCE[platform]);
  });
});
