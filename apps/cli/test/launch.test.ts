import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isGlibc, MMAP_THRESHOLD, NO_RELAUNCH_VARIABLE, relaunchEnvironment } from '../src/launch.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/sgenet.js', import.meta.url));

/** The pids of `pid`'s children (Linux `ps`). */
async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('sgenet deblur in a child with glibc malloc settings', () => {
  it('relaunches deblur only, on glibc only, once, and not when asked not to', () => {
    const glibc = () => true;
    const env = relaunchEnvironment(['deblur', 'a.jpg', '-o', 'b.png'], { PATH: '/bin' }, glibc);
    expect(env).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD) });
    // The child has the variable: it runs the command itself.
    expect(relaunchEnvironment(['deblur', 'a.jpg'], env!, glibc)).toBeUndefined();
    expect(relaunchEnvironment(['deblur', 'a.jpg'], { MALLOC_MMAP_THRESHOLD_: '65536' }, glibc)).toBeUndefined();
    expect(relaunchEnvironment(['deblur', 'a.jpg'], { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=4194304' }, glibc)).toBeUndefined();
    expect(relaunchEnvironment(['deblur', 'a.jpg'], { [NO_RELAUNCH_VARIABLE]: '1' }, glibc)).toBeUndefined();
    // Other commands do not even ask whether this is glibc.
    const asked: string[] = [];
    for (const command of ['kernel', 'worker', 'enqueue', '--help']) {
      expect(relaunchEnvironment([command], {}, () => { asked.push(command); return true; })).toBeUndefined();
    }
    expect(asked).toEqual([]);
    expect(relaunchEnvironment(['deblur', 'a.jpg'], {}, () => false)).toBeUndefined();
    expect(relaunchEnvironment([], {}, glibc)).toBeUndefined();
  });

  it('knows glibc as the C library itself says (getconf GNU_LIBC_VERSION; this CI machine: Debian, glibc)', async () => {
    const libc = process.platform === 'linux'
      ? await run('getconf', ['GNU_LIBC_VERSION']).then(({ stdout }) => stdout.startsWith('glibc'), () => false)
      : false;
    expect(isGlibc()).toBe(libc);
  });

  describe.runIf(isGlibc())('the launcher process', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sgenet-launch-'));
      const blurry = applyBlur(deadLeaves(1600, 1200, 3), trajectoryKernel({ length: 25, seed: 2 }), { noise: 0.01 });
      const { data, width, height, channels } = blurry;
      await writeFile(join(dir, 'big.png'), await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } }).png().toBuffer());
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('runs deblur in one child and, on SIGTERM, ends it and ends by SIGTERM itself', async () => {
      const launcher = spawn(process.execPath, [BIN, 'deblur', join(dir, 'big.png'), '-o', join(dir, 'out.png'), '-q'], { stdio: 'ignore' });
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        launcher.once('exit', (code, signal) => resolve({ code, signal }));
      });
      let children: number[] = [];
      for (let i = 0; i < 100 && children.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        children = await childrenOf(launcher.pid!);
      }
      expect(children).toHaveLength(1);
      launcher.kill('SIGTERM');
      expect(await ended).toEqual({ code: null, signal: 'SIGTERM' });
      // The child got the signal too: no photo is left deblurring without anyone waiting for it.
      for (let i = 0; i < 50 && alive(children[0]!); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(children[0]!)).toBe(false);
    }, 60_000);

    it('passes the child exit status through (a missing input fails with 1, a bad flag with 2)', async () => {
      const status = (args: string[]) => run(process.execPath, [BIN, ...args]).then(() => 0, (err: { code: number }) => err.code);
      expect(await status(['deblur', join(dir, 'absent.png'), '-o', join(dir, 'x.png'), '-q'])).toBe(1);
      expect(await status(['deblur', join(dir, 'big.png'), '-o', join(dir, 'x.png'), '--tile', 'zero'])).toBe(2);
    }, 60_000);
  });
});
