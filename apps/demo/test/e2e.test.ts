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

import { createDeblurrer } from '@sgenet/core';
import { applyBlur, testChart, trajectoryKernel, twoRegionShake } from '@sgenet/core/synthetic';
import type { Deblurrer } from '@sgenet/core';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDemoApp, renderSharpSample } from '../src/index.js';
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

async function openPage(options: { phone?: boolean } = {}): Promise<Page> {
  // The phone: 390x844 CSS px, like the screen the compare frame was too small on.
  const context = await browser!.newContext(
    options.phone
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, acceptDownloads: true }
      : { viewport: { width: 1000, height: 1200 }, acceptDownloads: true },
  );
  const page = await context.newPage();
  await page.goto(baseUrl);
  await expect.poll(() => page.textContent('#model-info')).toMatch(/^Model /);
  return page;
}

/** What the page showed, recorded in the page by a MutationObserver as it changed: nothing missed. */
interface Seen {
  /** Every value the progress bar took, in order (the first: its value when recording began). */
  bar: number[];
  /** Every status line, in order. */
  statuses: string[];
  /** The page at each change while a job was working: what of a previous result was on screen. */
  working: { kernelShown: boolean; compareShown: boolean; caption: string }[];
}

async function record(page: Page): Promise<void> {
  await page.evaluate(() => {
    const progress = document.getElementById('progress')!;
    const status = document.getElementById('status')!;
    const w = window as unknown as { seen: Seen };
    w.seen = { bar: [Number(progress.getAttribute('value'))], statuses: [], working: [] };
    new MutationObserver((records) => {
      // Records come in batches: a change's new value is the next record's old one, or the current.
      const bar = records.filter((r) => r.target === progress && r.attributeName === 'value');
      bar.forEach((r, i) => w.seen.bar.push(Number(i + 1 < bar.length ? bar[i + 1]!.oldValue : progress.getAttribute('value'))));
      for (const r of records) {
        if (r.target === status && r.type === 'childList' && r.addedNodes.length) w.seen.statuses.push(r.addedNodes[0]!.textContent ?? '');
      }
      if (document.body.dataset.state === 'working') {
        w.seen.working.push({
          kernelShown: !document.getElementById('kernel-figure')!.hidden,
          compareShown: !document.getElementById('compare')!.hidden,
          caption: document.getElementById('kernel-caption')!.textContent ?? '',
        });
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeOldValue: true, characterData: true });
  });
}

/** What was recorded since the last call; recording goes on from the page's current state. */
async function takeSeen(page: Page): Promise<Seen> {
  return page.evaluate(() => {
    const w = window as unknown as { seen: Seen };
    const seen = w.seen;
    w.seen = { bar: [Number(document.getElementById('progress')!.getAttribute('value'))], statuses: [], working: [] };
    return seen;
  });
}

function expectNonDecreasing(values: number[]): void {
  expect(values).toEqual([...values].sort((a, b) => a - b));
}

async function stageStatuses(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#stages li', (items) => Object.fromEntries(items.map((li) => [li.dataset.stage!, li.dataset.status ?? ''])));
}

async function pngOf(image: { data: Uint8Array; width: number; height: number }): Promise<Buffer> {
  return sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
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
    // Its verdict in words: core's three outcomes.
    const caption = (await page.textContent('#kernel-caption')) ?? '';
    expect(caption).toMatch(/^(Blur found, (confident|uncertain) \(\d+x\d+ px kernel\)|No blur found: denoised only)$/);
    if (caption.startsWith('Blur found')) {
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

  it('runs two photos in a row: stages by name, a bar that only moves forward, nothing left of the first', async (ctx) => {
    requireChromium(ctx);
    const page = await openPage();
    await record(page);

    // 1. The built-in sample, shaken by the app's own camera-shake generator: a kernel is found.
    await page.click('#sample');
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    let seen = await takeSeen(page);
    expectNonDecreasing(seen.bar);
    expect(seen.bar.at(-1)).toBe(100);
    // Each stage by name, in core's order; never the old "tile N of M" for all of them. The
    // default model (SGENet-σ) runs the network after the deconvolution: its learned prior.
    const first = (prefix: string): number => seen.statuses.findIndex((t) => t.startsWith(prefix));
    expect(first('Estimating blur: step ')).toBeGreaterThanOrEqual(0);
    expect(first('Deconvolving: tile ')).toBeGreaterThan(first('Estimating blur: step '));
    expect(deblurrer!.networkAfterDeconvolution).toBe(true);
    expect(first('Restoring: tile ')).toBeGreaterThan(first('Deconvolving: tile '));
    expect(seen.statuses.some((t) => t.startsWith('Deblurring'))).toBe(false);
    expect(await stageStatuses(page)).toEqual({
      kernel: 'done',
      deconvolve: 'done',
      network: 'done',
    });
    expect(await page.textContent('#kernel-caption')).toMatch(/^Blur found, (confident|uncertain) \(\d+x\d+ px kernel\)$/);
    expect(await page.textContent('#kernel-note')).toMatch(/^Confidence \d\.\d\d of 1: /);
    expect(await page.textContent('#status')).toMatch(/^Done in [\d.]+ s\. Blur found, /);
    await expect.poll(() => page.evaluate(() => (document.getElementById('kernel') as HTMLImageElement).naturalWidth)).toBeGreaterThan(50);
    // The user compares: moves the divider and zooms in.
    await page.fill('#slider', '25');
    await page.click('#zoom');
    expect(await page.getAttribute('#zoom', 'aria-pressed')).toBe('true');

    // 2. A sharp photo: the app's chart as drawn, no shake.
    await page.setInputFiles('#file', { name: 'sharp-chart.png', mimeType: 'image/png', buffer: await pngOf(await renderSharpSample(320, 224)) });
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    seen = await takeSeen(page);
    // Not one moment of the second job showed the first one's kernel, verdict or result.
    expect(seen.working.length).toBeGreaterThan(0);
    expect(seen.working.filter((w) => w.kernelShown || w.compareShown || w.caption !== '')).toEqual([]);
    // The bar: from the first job's 100 to 0 as the second starts, then forward only.
    expect(seen.bar.slice(0, 2)).toEqual([100, 0]);
    expectNonDecreasing(seen.bar.slice(1));
    expect(seen.bar.at(-1)).toBe(100);
    // No blur: the estimation ran, the deconvolution was not needed, the network denoised.
    expect(seen.statuses.some((t) => t.startsWith('Estimating blur: step '))).toBe(true);
    expect(seen.statuses.some((t) => t.startsWith('Restoring: tile '))).toBe(true);
    expect(seen.statuses.some((t) => t.startsWith('Deconvolving'))).toBe(false);
    expect(await stageStatuses(page)).toEqual({ kernel: 'done', deconvolve: 'skipped', network: 'done' });
    expect(await page.textContent('#stages [data-stage="deconvolve"]')).toBe('Deconvolving (not needed)');
    // Said plainly, in the status line and beside the picture.
    expect(await page.textContent('#status')).toMatch(/^Done in [\d.]+ s\. No blur found: left as it was, denoised only\. /);
    expect(await page.textContent('#kernel-caption')).toBe('No blur found: denoised only');
    expect(await page.textContent('#kernel-note')).toContain('left as it was: the network only removed noise');
    expect(await page.textContent('#after-label')).toBe('After (denoised only) ▶');
    expect(await page.isHidden('#kernel')).toBe(true);
    expect(await page.evaluate(() => (document.getElementById('after') as HTMLImageElement).naturalWidth)).toBe(320);
    // The new result's compare starts afresh: divider in the middle, not zoomed.
    expect(await page.inputValue('#slider')).toBe('50');
    expect(await page.evaluate(() => document.getElementById('frame')!.style.getPropertyValue('--pos'))).toBe('50%');
    expect(await page.getAttribute('#zoom', 'aria-pressed')).toBe('false');
    await page.context().close();
  });

  it('on a phone: compares across the whole width, zooms in, and keeps a non-ASCII download name', async (ctx) => {
    requireChromium(ctx);
    const page = await openPage({ phone: true });
    // The result's header as @sgenet/express writes it (RFC 6266): an ASCII fallback, and the
    // UTF-8 name in filename*. Set here so the page is tested against that form whatever the
    // middleware in this checkout sends.
    const utf8Name = 'ünï😀 cödé-deblurred.png';
    await page.route('**/api/deblur*', async (route) => {
      const response = await route.fetch();
      const disposition = `inline; filename="_n_c_d_-deblurred.png"; filename*=UTF-8''${encodeURIComponent(utf8Name)}`;
      await route.fulfill({ response, headers: { ...response.headers(), 'content-disposition': disposition } });
    });
    const blurred = applyBlur(testChart(256, 192), trajectoryKernel({ length: 11, seed: 5 }));
    await page.setInputFiles('#file', { name: 'ünï😀 cödé.png', mimeType: 'image/png', buffer: await pngOf(blurred) });
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });

    const layout = (): Promise<{ screen: number; frame: DOMRect; view: DOMRect; scrollWidth: number; scrollLeft: number; divider: DOMRect; touch: string }> =>
      page.evaluate(() => {
        const view = document.getElementById('viewport')!;
        const frame = document.getElementById('frame')!;
        return {
          screen: window.innerWidth,
          frame: frame.getBoundingClientRect().toJSON() as DOMRect,
          view: view.getBoundingClientRect().toJSON() as DOMRect,
          scrollWidth: view.scrollWidth,
          scrollLeft: view.scrollLeft,
          divider: frame.querySelector('.divider')!.getBoundingClientRect().toJSON() as DOMRect,
          touch: getComputedStyle(frame).touchAction,
        };
      });
    const inView = (l: Awaited<ReturnType<typeof layout>>): boolean =>
      l.divider.left >= l.view.left && l.divider.right <= l.view.right;

    // Fitted: the frame spans (nearly) the whole screen, and stays on it.
    const fit = await layout();
    expect(fit.screen).toBe(390);
    expect(fit.frame.width).toBeGreaterThanOrEqual(0.9 * 390);
    expect(fit.frame.left).toBeGreaterThanOrEqual(0);
    expect(fit.frame.right).toBeLessThanOrEqual(390);

    // Zoomed: at least twice as wide, in a view a finger pans, the divider in view.
    await page.tap('#zoom');
    expect(await page.getAttribute('#zoom', 'aria-pressed')).toBe('true');
    const zoomed = await layout();
    expect(zoomed.frame.width).toBeGreaterThanOrEqual(2 * fit.frame.width - 1);
    expect(zoomed.scrollWidth).toBeGreaterThan(zoomed.view.width);
    expect(zoomed.touch).toBe('pan-x pan-y');
    expect(inView(zoomed)).toBe(true);
    // The slider moves the divider and the view follows it.
    await page.fill('#slider', '90');
    const moved = await layout();
    expect(moved.scrollLeft).toBeGreaterThan(zoomed.scrollLeft);
    expect(inView(moved)).toBe(true);
    // And back to the whole picture.
    await page.tap('#zoom');
    expect(await page.getAttribute('#zoom', 'aria-pressed')).toBe('false');
    expect((await layout()).frame.width).toBeCloseTo(fit.frame.width, 0);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(utf8Name);

    const shot = join(workDir, 'demo-phone.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`[demo e2e] phone screenshot: ${shot}`);
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

  it('shows the grid of kernels where per-region kernels were used (regions: auto)', async (ctx) => {
    requireChromium(ctx);
    // Left half one camera path, right half its mirror image (core's planted 2-region shake).
    const { blurry: shaken } = twoRegionShake();
    const regional = createDemoApp({ deblurrer: deblurrer!, tileSize: 256, regions: 'auto' });
    const regionalServer = regional.app.listen(0, '127.0.0.1');
    try {
      const url = await listen(regionalServer);
      const page = await browser!.newPage({ viewport: { width: 1000, height: 1200 } });
      await page.goto(url);
      await page.setInputFiles('#file', { name: 'two-regions.png', mimeType: 'image/png', buffer: await pngOf(shaken) });
      await page.waitForSelector('body[data-state="done"]', { timeout: 180_000 });
      await expect.poll(() => page.textContent('#kernel-caption')).toMatch(/^Blur found, (confident|uncertain) \(2x2 grid of kernels; \d+x\d+ px for the photo as a whole\)$/);
      expect(await page.textContent('#kernel-note')).toMatch(/The shake was not the same everywhere: [1-4] of the 4 regions were deconvolved with a kernel of their own/);
      expect(await page.getAttribute('#kernel', 'alt')).toBe('The blur kernels, one per region of the photo (2 across, 2 down)');
      // The picture is the grid: two cells and a 4 px line across, as wide as it is tall.
      const size = await page.evaluate(() => { const k = document.getElementById('kernel') as HTMLImageElement; return [k.naturalWidth, k.naturalHeight]; });
      expect(size[0]).toBe(size[1]);
      expect((size[0]! - 4) % 2).toBe(0);
      await page.context().close();
    } finally {
      await closeServer(regionalServer);
      await regional.close();
    }
  }, 240_000);
});
