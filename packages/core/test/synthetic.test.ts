/**
 * `@sgenet/core/synthetic`: the generators live behind their own entry point, and the camera-shake
 * model states the training pipeline's parameters (training/sgenet/blur.py) once, equal to them.
 * The kernels themselves differ by design (different random streams; see motion-blur.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import * as main from '../src/index.js';
import * as synthetic from '../src/synthetic/index.js';
import { applyBlur, mirroredKernel, TRAJECTORY_MODEL, trajectoryKernel, twoRegionShake } from '../src/synthetic/index.js';

const BLUR_PY = new URL('../../../training/sgenet/blur.py', import.meta.url);

/** The one match of `pattern` in `text`, its groups as numbers. */
function numbers(text: string, pattern: RegExp): number[] {
  const m = text.match(pattern);
  expect(m, `training/sgenet/blur.py no longer matches ${pattern}`).not.toBeNull();
  return m!.slice(1).map(Number);
}

describe('the synthetic entry point', () => {
  const generators = ['applyBlur', 'applyBlurGrid', 'deadLeaves', 'laplacianVariance', 'mirroredKernel', 'psnr', 'psnrAligned', 'seededRandom', 'testChart', 'trajectoryKernel', 'twoRegionShake'];

  it('has the generators and measures; the main entry does not', () => {
    for (const name of generators) {
      expect(typeof (synthetic as Record<string, unknown>)[name], name).toBe('function');
      expect(name in main, `${name} is still exported from the main entry`).toBe(false);
    }
    expect(synthetic.TRAJECTORY_MODEL).toBe(TRAJECTORY_MODEL);
  });

  it('is declared in package.json like ./fft', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./synthetic']).toEqual({ types: './dist/synthetic/index.d.ts', import: './dist/synthetic/index.js' });
  });
});

describe('the trajectory model and training/sgenet/blur.py', () => {
  const py = readFileSync(BLUR_PY, 'utf8');
  const fn = py.slice(py.indexOf('def trajectory_kernel('), py.indexOf('\ndef ', py.indexOf('def trajectory_kernel(') + 1));

  it('has blur.py\'s DEFAULT_INERTIA, the default of trajectory_kernel', () => {
    expect(numbers(py, /^DEFAULT_INERTIA = \(([\d.]+), ([\d.]+)\)$/m)).toEqual([...TRAJECTORY_MODEL.inertia]);
    expect(fn).toMatch(/inertia_range: tuple\[float, float\] = DEFAULT_INERTIA\)/);
    expect(fn).toMatch(/^ {4}inertia = rng\.uniform\(\*inertia_range\)$/m);
  });

  it('has its jerk probability, acceleration and jerk scales and steps', () => {
    expect(numbers(fn, /^ {4}jerk_prob = rng\.uniform\(0(?:\.0)?, ([\d.]+)\)$/m)).toEqual([TRAJECTORY_MODEL.maxJerkProbability]);
    expect(numbers(fn, /^ {8}acc = rng\.normal\(size=2\) \* \(1 - inertia\) \* ([\d.]+)$/m)).toEqual([TRAJECTORY_MODEL.accelerationScale]);
    expect(numbers(fn, /^ {12}acc \+= rng\.normal\(size=2\) \* ([\d.]+)$/m)).toEqual([TRAJECTORY_MODEL.jerkScale]);
    expect(numbers(fn, /\bsteps: int = (\d+)/)).toEqual([TRAJECTORY_MODEL.steps]);
  });

  it('walks `steps` steps by default and cannot be changed at run time', () => {
    expect(trajectoryKernel({ seed: 3 })).toEqual(trajectoryKernel({ seed: 3, steps: TRAJECTORY_MODEL.steps }));
    expect(Object.isFrozen(TRAJECTORY_MODEL) && Object.isFrozen(TRAJECTORY_MODEL.inertia)).toBe(true);
  });
});

describe('the planted 2-region shake', () => {
  it('mirrors a kernel left to right: twice is the kernel itself, and the mass is kept', () => {
    const k = trajectoryKernel({ length: 13, seed: 2 });
    const m = mirroredKernel(k);
    expect(m.data[0 * k.width + 0]).toBe(k.data[k.width - 1]);
    expect(mirroredKernel(m)).toEqual(k);
    expect(m.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('blurs each half by its own kernel: each half equals the uniform blur by that kernel away from the cut', () => {
    const { sharp, blurry, grid } = twoRegionShake({ width: 128, height: 64, length: 9, noise: 0 });
    expect(grid.kernels[1]).toEqual(mirroredKernel(grid.kernels[0]));
    expect(sharp.width).toBe(128);
    for (const [i, x0, x1] of [[0, 0, 64], [1, 64, 128]] as const) {
      const uniform = applyBlur(sharp, grid.kernels[i], { noise: 0 });
      for (let y = 0; y < 64; y++) {
        for (let x = x0; x < x1; x++) {
          for (let c = 0; c < 3; c++) expect(blurry.data[(y * 128 + x) * 3 + c]).toBe(uniform.data[(y * 128 + x) * 3 + c]);
        }
      }
    }
  });
});
