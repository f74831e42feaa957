/** The ONNX reader: graph structure, tensor encodings, attribute kinds (negative int64s included). */
import { readModelBytes, shippedModelPath } from '@sgenet/core';
import { describe, expect, it } from 'vitest';

import { parseOnnxModel } from '../src/index.js';
import { planReshape } from '../src/runtime/layout.js';
import { encodeModel } from './helpers/onnx-builder.js';

describe('parseOnnxModel', () => {
  it('reads the shipped model: opset, inputs, outputs, initializers, metadata', async () => {
    const model = parseOnnxModel(await readModelBytes(shippedModelPath('sgenet-s')));
    expect(model.opsets.get('')).toBe(17);
    expect(model.graph.inputs).toEqual([{ name: 'blurry', elemType: 1, dims: [1, 3, 'height', 'width'] }]);
    expect(model.graph.outputs.map((o) => o.name)).toEqual(['restored']);
    expect(model.metadata.multiple).toBe('8');
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
    const weight = model.graph.initializers.get(conv.inputs[1]!)!;
    expect(weight.dtype).toBe('float32');
    expect(weight.data.length).toBe(weight.dims.reduce((a, b) => a * b, 1));
    expect(conv.attributes.get('pads')).toEqual({ kind: 'ints', value: [1, 1, 1, 1] });
  });

  it('decodes raw_data and typed fields alike, and negative int64 exactly', () => {
    const bytes = encodeModel({
      nodes: [{
        op: 'Concat',
        inputs: ['a', 'b'],
        outputs: ['y'],
        attrs: {
          axis: { int: -1 },
          unpacked: { ints: [-1, -2, 3, -9223372036854775807] },
          packed: { ints: [-5, 7], packed: true },
          alpha: { float: 0.1 },
          mode: { string: 'CRD' },
          floats: { floats: [1.5, -2] },
        },
      }],
      inputs: [{ name: 'a', dims: [2] }],
      outputs: [{ name: 'y' }],
      initializers: [
        { name: 'b', dtype: 'float32', dims: [2], values: [0.5, -1], encoding: 'raw' },
        { name: 'c', dtype: 'float32', dims: [2], values: [0.5, -1], encoding: 'typed' },
        { name: 'i', dtype: 'int64', dims: [3], values: [-1, 2 ** 40, -(2 ** 40)], encoding: 'raw' },
        { name: 'j', dtype: 'int64', dims: [3], values: [-1, 2 ** 40, -(2 ** 40)], encoding: 'typed' },
      ],
    });
    const { graph } = parseOnnxModel(bytes);
    const node = graph.nodes[0]!;
    expect(node.attributes.get('axis')).toEqual({ kind: 'int', value: -1 });
    expect(node.attributes.get('unpacked')).toEqual({ kind: 'ints', value: [-1, -2, 3, -9223372036854775807] });
    expect(node.attributes.get('packed')).toEqual({ kind: 'ints', value: [-5, 7] });
    expect((node.attributes.get('alpha') as { value: number }).value).toBeCloseTo(0.1, 7);
    expect(node.attributes.get('mode')).toEqual({ kind: 'string', value: 'CRD' });
    expect(node.attributes.get('floats')).toEqual({ kind: 'floats', value: [1.5, -2] });
    expect(Array.from(graph.initializers.get('b')!.data)).toEqual([0.5, -1]);
    expect(Array.from(graph.initializers.get('c')!.data)).toEqual([0.5, -1]);
    expect(Array.from(graph.initializers.get('i')!.data)).toEqual([-1, 2 ** 40, -(2 ** 40)]);
    expect(Array.from(graph.initializers.get('j')!.data)).toEqual([-1, 2 ** 40, -(2 ** 40)]);
    // Initializers are not graph inputs even when an exporter lists them as such.
    expect(graph.inputs.map((i) => i.name)).toEqual(['a']);
  });

  it('reads a model handed over as a Node Buffer (a view into a shared pool)', async () => {
    const { readFile } = await import('node:fs/promises');
    const model = parseOnnxModel(await readFile(shippedModelPath('sgenet-s')));
    expect(model.graph.initializers.size).toBeGreaterThan(0);
  });
});

describe('planReshape (layout-preserving reshapes)', () => {
  const NHWC = [0, 2, 3, 1];

  it('splits the channel axis of an NHWC tensor without moving data', () => {
    // [N, 3C, H, W] stored NHWC -> [N, 3, C, H, W]: physical [N, H, W, 3, C].
    expect(planReshape([1, 48, 8, 6], NHWC, [1, 3, 16, 8, 6])).toEqual({
      physicalShape: [1, 8, 6, 3, 16],
      perm: [0, 3, 4, 1, 2],
    });
  });

  it('keeps identity layouts identity', () => {
    expect(planReshape([1, 3, 8, 6], [0, 1, 2, 3], [1, 3, 8, 1, 6])?.perm).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a merge of axes that are not adjacent in memory', () => {
    // Merging C with H of an NHWC tensor would need a transpose.
    expect(planReshape([1, 4, 8, 6], NHWC, [1, 32, 6])).toBeUndefined();
  });
});
