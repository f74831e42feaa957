/**
 * End-to-end: the demo page in headless Chromium (Debian's `chromium` package driven by
 * playwright-core). Without /usr/bin/chromium the tests are skipped with a message, except when
 * the CI environment variable is set: then they fail, so CI cannot pass without running them.
 * Override the browser path with CHROMIUM_PATH.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { applyBlur, createDeblurrer, testChart, trajectoryKernel } from '@sgenet/core';
import type { Deblurrer } from '@sgenet/core';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDemoApp } from '../src/index.js';
import type { Demo } from '../src/index.js';
import { closeServer, decodeRgb, laplacianVariance, listen } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const available = existsSync(CHROMIUM);
const MISSING = `${CHROMIUM} not found: install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM_PATH`;

let deblurrer: Deblurrer | undefined;
let demo: Demo | undefined;
let server: Server | undefined;
let baseUrl = '';
let browser: Browser | undefined;
let workDir = '';

function requireChromium(ctx: { skip: (note?: string) => void }): void {
  if (available) return;
  if (process.env.CI) throw new Error(`CI is set, so the browser test must run, but ${MISSING}`);
  ctx.skip(MISSING);
}

beforeAll(async () => {
  if (!available) {
    if (!process.env.CI) console.warn(`[demo e2e] skipped: ${MISSING}`);
    return;
  }
  workDir = await mkdtemp(join(tmpdir(), 'sgenet-demo-e2e-'));
  deblurrer = await createDeblurrer({ backend: 'ort', threads: 1 });
  demo = createDemoApp({ deblurrer, tileSize: 128 });
  server = demo.app.listen(0, '127.0.0.1');
  baseUrl = await listen(server);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  if (server) await closeServer(server);
  await demo?.close();
  await deblurrer?.dispose();
});

async function openPage(): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1000, height: 1200 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(baseUrl);
  await expect.poll(() => page.textContent('#model-info')).toMatch(/^Model /);
  return page;
}

describe('demo in headless Chromium', () => {
  it('uploads a blurry photo, shows progress, compares and downloads a sharper result', async (ctx) => {
    requireChromium(ctx);
    // The input: the project's chart, shaken by its camera-shake generator.
    const blurred = applyBlur(testChart(256, 192), trajectoryKernel({ length: 11, seed: 5 }));
    const inputPath = join(workDir, 'shaky-chart.png');
    await writeFile(inputPath, await sharp(blurred.data, { raw: { width: 256, height: 192, channels: 3 } }).png().toBuffer());

    const page = await openPage();
    await page.setInputFiles('#file', inputPath);
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    expect(await page.textContent('#status')).toMatch(/^Done in [\d.]+ s/);
    expect(await page.getAttribute('#progress', 'value')).toBe('100');

    // The page saw the job's progress: tiles over Server-Sent Events (256x192 in 128-px tiles).
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { sgenetProgressLog?: { phase: string }[] }).sgenetProgressLog?.map((p) => p.phase) ?? []))
      .toContain('done');
    const log = await page.evaluate(
      () => (window as unknown as { sgenetProgressLog: { phase: string; done: number; total: number }[] }).sgenetProgressLog,
    );
    const tiles = log.filter((p) => p.phase === 'deblurring');
    expect(tiles.length).toBeGreaterThan(1);
    expect(tiles.at(-1)!.done).toBe(tiles.at(-1)!.total);

    // Before and after are both shown, same size; the slider moves the divider.
    await expect.poll(() => page.evaluate(() => (document.getElementById('before') as HTMLImageElement).naturalWidth)).toBe(256);
    expect(await page.evaluate(() => (document.getElementById('after') as HTMLImageElement).naturalWidth)).toBe(256);
    // The kernel the server deconvolved with is shown, enlarged, beside before/after.
    await expect.poll(() => page.evaluate(() => !(document.getElementById('kernel-figure') as HTMLElement).hidden)).toBe(true);
    const caption = (await page.textContent('#kernel-caption')) ?? '';
    expect(caption).toMatch(/^(Estimated blur kernel: \d+x\d+, confidence \d\.\d\d \(enlarged\)|No blur kernel found)/);
    if (caption.startsWith('Estimated')) {
      await expect.poll(() => page.evaluate(() => (document.getElementById('kernel') as HTMLImageElement).naturalWidth)).toBeGreaterThan(50);
    }
    await page.fill('#slider', '25');
    expect(await page.evaluate(() => document.getElementById('frame')!.style.getPropertyValue('--pos'))).toBe('25%');

    // Download the result and check it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('shaky-chart-deblurred.png');
    const downloaded = join(workDir, download.suggestedFilename());
    await download.saveAs(downloaded);
    const result = await decodeRgb(await readFile(downloaded));
    expect([result.width, result.height]).toEqual([256, 192]);
    expect(result.data).not.toEqual(blurred.data);
    expect(laplacianVariance(result)).toBeGreaterThan(1.25 * laplacianVariance(blurred));

    const shot = join(workDir, 'demo-result.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
    console.log(`[demo e2e] screenshot: ${shot}`);
    await page.context().close();
  });

  it('runs the built-in sample', async (ctx) => {
    requireChromium(ctx);
    const page = await openPage();
    await page.click('#sample');
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    expect(await page.evaluate(() => (document.getElementById('after') as HTMLImageElement).naturalWidth)).toBe(320);
    await page.context().close();
  });

  it('explains a file that is not an image', async (ctx) => {
    requireChromium(ctx);
    const page = await openPage();
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo\n') });
    await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
    expect(await page.textContent('#error')).toMatch(/ERR_SGENET_UNSUPPORTED_MEDIA_TYPE/);
    expect(await page.isHidden('#download')).toBe(true);
    await page.context().close();
  });
});
