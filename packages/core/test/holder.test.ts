/**
 * DeblurrerHolder: the create-once, retry-after-failure, dispose-once deblurrer of the Express
 * middleware and the queue worker, with a fake deblurrer (no model is loaded).
 */
import { describe, expect, it, vi } from 'vitest';

import { DeblurrerHolder, deblurrerOption } from '../src/index.js';
import type { Deblurrer } from '../src/index.js';

function fakeDeblurrer(): Deblurrer & { dispose: ReturnType<typeof vi.fn> } {
  return {
    model: {} as Deblurrer['model'],
    backend: 'fake',
    provider: 'cpu',
    deblur: (image) => Promise.resolve(image),
    dispose: vi.fn(() => Promise.resolve()),
  };
}

/** A factory whose creates the test settles by hand. */
function controlledFactory() {
  const pending: { resolve: (d: Deblurrer) => void; reject: (e: Error) => void }[] = [];
  const create = vi.fn(() => new Promise<Deblurrer>((resolve, reject) => pending.push({ resolve, reject })));
  return { create, pending };
}

describe('DeblurrerHolder', () => {
  it('creates once, however many jobs ask while it loads', async () => {
    const { create, pending } = controlledFactory();
    const holder = new DeblurrerHolder(create);
    expect(holder.owns).toBe(true);
    expect(holder.held).toBe(false);
    expect(create).not.toHaveBeenCalled(); // lazily, on the first get()
    const first = holder.get();
    const second = holder.get();
    expect(create).toHaveBeenCalledTimes(1);
    const d = fakeDeblurrer();
    pending[0]!.resolve(d);
    expect(await first).toBe(d);
    expect(await second).toBe(d);
    expect(await holder.get()).toBe(d);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('retries after a failed create instead of failing for good', async () => {
    const { create, pending } = controlledFactory();
    const holder = new DeblurrerHolder(create);
    const failed = holder.get();
    pending[0]!.reject(new Error('model file still being copied'));
    await expect(failed).rejects.toThrow('model file still being copied');
    expect(holder.held).toBe(false);
    const retried = holder.get();
    expect(create).toHaveBeenCalledTimes(2);
    const d = fakeDeblurrer();
    pending[1]!.resolve(d);
    expect(await retried).toBe(d);
  });

  it('turns a factory that throws at once into a rejected get(), then retries', async () => {
    let calls = 0;
    const d = fakeDeblurrer();
    const holder = new DeblurrerHolder(() => {
      calls += 1;
      if (calls === 1) throw new Error('sync failure');
      return Promise.resolve(d);
    });
    await expect(holder.get()).rejects.toThrow('sync failure');
    expect(await holder.get()).toBe(d);
  });

  it('disposes what it created once, even when asked twice at the same time', async () => {
    const d = fakeDeblurrer();
    const holder = new DeblurrerHolder(() => Promise.resolve(d));
    await holder.get();
    await Promise.all([holder.dispose(), holder.dispose()]);
    await holder.dispose();
    expect(d.dispose).toHaveBeenCalledTimes(1);
    expect(holder.held).toBe(false);
  });

  it('release() hands back a disposer that runs once, and waits for a create under way', async () => {
    const { create, pending } = controlledFactory();
    const holder = new DeblurrerHolder(create);
    expect(holder.release()).toBeUndefined(); // nothing created yet
    void holder.get();
    const disposeLater = holder.release()!;
    expect(holder.held).toBe(false);
    const d = fakeDeblurrer();
    const disposing = Promise.all([disposeLater(), disposeLater()]);
    pending[0]!.resolve(d);
    await disposing;
    expect(d.dispose).toHaveBeenCalledTimes(1);
  });

  it('never disposes a deblurrer it was given, nor lets a given rejected promise go unhandled', async () => {
    const d = fakeDeblurrer();
    const holder = new DeblurrerHolder(d);
    expect(holder.owns).toBe(false);
    expect(await holder.get()).toBe(d);
    await holder.dispose();
    expect(d.dispose).not.toHaveBeenCalled();
    expect(await holder.get()).toBe(d);

    const broken = new DeblurrerHolder(Promise.reject(new Error('no backend')));
    await expect(broken.get()).rejects.toThrow('no backend');
    await expect(broken.get()).rejects.toThrow('no backend'); // a given promise is not retried
    await broken.dispose();
  });
});

describe('deblurrerOption', () => {
  it('takes a Deblurrer or a promise of one, and nothing else', () => {
    const d = fakeDeblurrer();
    expect(deblurrerOption(undefined)).toBeUndefined();
    expect(deblurrerOption(d)).toBe(d);
    const p = Promise.resolve(d);
    expect(deblurrerOption(p)).toBe(p);
    expect(() => deblurrerOption({ run: () => {} })).toThrow(
      expect.objectContaining({
        code: 'ERR_SGENET_INVALID_OPTION',
        message: 'Expected a Deblurrer or a Promise of one for deblurrer but received [object Object] of type object',
      }),
    );
  });
});
