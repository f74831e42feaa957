/**
 * `npm start` runs `node dist/server.js`: it must print its URL and serve the page. Needs the
 * build (turbo's test task depends on it); without dist/ the test is skipped with a message.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../dist/server.js', import.meta.url));

describe('node dist/server.js', () => {
  it('prints its URL, serves the page and stops on SIGTERM', async (ctx) => {
    if (!existsSync(entry)) ctx.skip('apps/demo is not built: run `npx tsc -p apps/demo/tsconfig.json` first');
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SGENET_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    try {
      await expect.poll(() => output, { timeout: 30_000 }).toMatch(/SGENet demo: http:\/\/127\.0\.0\.1:\d+\//);
      const url = /SGENet demo: (http:\/\/\S+)/.exec(output)![1]!;
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('SGENet');
      await expect.poll(() => output, { timeout: 30_000 }).toMatch(/Model \S+ \S+ loaded on ort\/cpu/);
      const info = await fetch(new URL('/api/info', url));
      expect(info.status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('refuses a bad PORT with a message', async (ctx) => {
    if (!existsSync(entry)) ctx.skip('apps/demo is not built');
    const child = spawn(process.execPath, [entry], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(err).toContain('PORT=eighty is not an integer between 0 and 65535');
  });
});
