/**
 * The option checks the adapters share (adapter-options.ts, validate.ts): one message shape,
 * `undefined` as "not given", allowed-value tables that double as validators.
 */
import { describe, expect, it } from 'vitest';

import {
  backendOption,
  checkTileOverlap,
  integerOption,
  isOutputFormat,
  minTileSizeFor,
  modelOption,
  OUTPUT_FORMATS,
  outputFormatOption,
  oneOfOption,
  threadsOption,
  tilingOptions,
} from '../src/index.js';

const invalid = (message: string) => expect.objectContaining({ code: 'ERR_SGENET_INVALID_OPTION', message }) as Error;

describe('integerOption', () => {
  it('gives the fallback, or undefined without one, for a value not given', () => {
    expect(integerOption('n', undefined, 1, 5, 3)).toBe(3);
    expect(integerOption('n', undefined, 1, 5)).toBeUndefined();
    expect(integerOption('n', 5, 1, 5)).toBe(5);
  });
  it.each([0, 6, 1.5, '2', null, Number.NaN])('refuses %j with the one message', (value) => {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    expect(() => integerOption('n', value, 1, 5)).toThrow(invalid(`Expected an integer between 1 and 5 for n but received ${shown} of type ${typeof value}`));
  });
});

describe('allowed-value tables', () => {
  it('OUTPUT_FORMATS is the formats every adapter writes today: png, jpeg, webp', () => {
    expect(OUTPUT_FORMATS).toEqual(['png', 'jpeg', 'webp']);
    expect(OUTPUT_FORMATS.every(isOutputFormat)).toBe(true);
    expect(['gif', 'avif', 'tiff', 'jpg', 'PNG', undefined].some(isOutputFormat)).toBe(false);
  });
  it('validates against the table', () => {
    expect(outputFormatOption('format', undefined)).toBeUndefined();
    expect(outputFormatOption('format', 'webp')).toBe('webp');
    expect(() => outputFormatOption('format', 'gif')).toThrow(
      invalid(`Expected one of 'png', 'jpeg', 'webp' for format but received "gif" of type string`),
    );
    expect(oneOfOption('mode', 'a', ['a', 'b'] as const)).toBe('a');
    expect(() => oneOfOption('mode', 'c', ['a', 'b'] as const)).toThrow(`Expected one of 'a', 'b' for mode`);
  });
});

describe('tilingOptions', () => {
  it('checks each value and the pair with core\'s rule, less the model\'s multiple', () => {
    expect(tilingOptions(undefined, undefined)).toEqual({ tileSize: undefined, overlap: undefined });
    expect(tilingOptions(96, 32)).toEqual({ tileSize: 96, overlap: 32 });
    expect(minTileSizeFor(32, 0)).toBe(96);
    expect(() => tilingOptions(64, 32)).toThrow(
      invalid('Expected an integer of at least 3 x overlap (96) for tileSize but received 64 of type number'),
    );
    expect(() => tilingOptions(32, undefined)).toThrow(invalid('Expected an integer between 64 and 8192 for tileSize but received 32 of type number'));
    expect(() => tilingOptions(undefined, -1)).toThrow(invalid('Expected an integer between 0 and 1024 for overlap but received -1 of type number'));
    expect(() => checkTileOverlap(64, undefined)).not.toThrow();
  });
});

describe('options of a deblurrer an adapter creates', () => {
  it('backend, model and threads', () => {
    expect(backendOption(undefined)).toBeUndefined();
    expect(backendOption('tfjs')).toBe('tfjs');
    const backend = { name: 'fake', load: () => Promise.reject(new Error('unused')) };
    expect(backendOption(backend)).toBe(backend);
    expect(() => backendOption('cuda')).toThrow(invalid(`Expected a Backend object, 'ort', 'tfjs' or 'auto' for backend but received "cuda" of type string`));
    expect(modelOption('m.onnx')).toBe('m.onnx');
    expect(() => modelOption('')).toThrow(invalid("Expected a file path, a shipped model's name ('sgenet-s', 'sgenet-s-sigma') or a Uint8Array of an ONNX model for model but received \"\" of type string"));
    expect(threadsOption(undefined)).toBeUndefined();
    expect(threadsOption(4)).toBe(4);
    expect(() => threadsOption(0)).toThrow(invalid('Expected an integer between 1 and 1024 for threads but received 0 of type number'));
  });
});
