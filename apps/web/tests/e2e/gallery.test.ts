/**
 * End-to-end: a real Chromium (Debian's, through playwright-core) drives the gallery as `npm start`
 * serves it on the embedded defaults: the studio, publishing, votes, the share link opened fresh as
 * someone it was sent to, the judge game, the leaderboard, the run pages, phone layouts, and the
 * production CSP on every page (any violation fails the last test).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { CHROMIUM, GALLERY, startServer, type Started } from '../helpers';
import { uploadTiny64, uploadTinyCifar, uploadTinyConditional } from './fixtures';

const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** RGBA bytes of every grid tile (16 × 32 × 32 × 4), to compare backends pixel for pixel. */
const gridPixels = (page: Page): Promise<number[][]> =>
  page.$$eval('[data-testid=grid] canvas', (cs: HTMLCanvasElement[]) =>
    cs.map((c) => Array.from(c.getContext('2d')!.getImageData(0, 0, 32, 32).data)),
  );

let server: Started;
let base: string;
let model64: string;
let conditional: string;
let cifarRun: string;
let browser: Browser;
let visitor: BrowserContext;
let page: Page;
const violations: string[] = [];
/** What one test leaves for a later one (the grids, the published image, …). */
const state: Record<string, any> = {};

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gallery-e2e-'));
  model64 = await uploadTiny64(dataDir);
  conditional = await uploadTinyConditional(dataDir);
  cifarRun = await uploadTinyCifar(dataDir);
  server = await startServer('gallery', process.execPath, GALLERY, {
    GANSTUDIO_DATA_DIR: dataDir,
    DATABASE_URL: '',
    BLOB_READ_WRITE_TOKEN: '',
  });
  base = server.base;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  visitor = await browser.newContext();
  page = await visitor.newPage();
  visitor.on('console', (msg) => {
    if (/Content Security Policy|Refused to (execute|load|compile)/i.test(msg.text()))
      violations.push(msg.text());
  });
});

afterAll(async () => {
  console.log(`  (browser backend: ${state['backend'] ?? 'n/a'})`);
  await browser?.close();
  await server?.stop();
});

describe('the gallery in Chromium', () => {
  it('studio loads the bundled generator in the browser and samples a 4×4 grid', async () => {
    await page.goto(`${base}/studio?seed=1000`);
    await page
      .getByTestId('backend')
      .filter({ hasText: /backend: (webgpu|webgl|wasm|cpu)$/ })
      .waitFor({ timeout: 60_000 });
    await page
      .getByTestId('model-size')
      .filter({ hasText: /MB \(uint8\) · loaded/ })
      .waitFor({ timeout: 120_000 });
    await page.locator('[data-testid=grid] canvas').nth(15).waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('[data-testid=grid] canvas').count(), 16);
    // Real pixels, not a blank canvas: tiles differ from each other.
    const sums = await page.$$eval('[data-testid=grid] canvas', (cs: HTMLCanvasElement[]) =>
      cs.slice(0, 2).map((c) =>
        c
          .getContext('2d')!
          .getImageData(0, 0, 32, 32)
          .data.reduce((a: number, b: number) => a + b, 0),
      ),
    );
    assert.notEqual(sums[0], sums[1]);
    state.backend = (await page.getByTestId('backend').textContent())!;
    state.grid = await gridPixels(page);
  });

  it('?backend=wasm samples the same grid on the wasm backend (phase-split convs, filters kept)', async () => {
    const p = await visitor.newPage();
    await p.goto(`${base}/studio?seed=1000&backend=wasm`);
    await p
      .getByTestId('backend')
      .filter({ hasText: /backend: wasm$/ })
      .waitFor({ timeout: 60_000 });
    await p.locator('[data-testid=grid] canvas').nth(15).waitFor({ timeout: 120_000 });
    const grid = await gridPixels(p);
    let worst = 0;
    grid.forEach((tile, t) =>
      tile.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - state.grid[t][i])))),
    );
    assert.ok(worst <= 3, `wasm and ${state.backend} grids differ by up to ${worst}/255`);
    state.wasmGrid = grid;
    await p.close();
  });

  it('picking two tiles interpolates between them', async () => {
    await page.getByRole('button', { name: 'seed 1000', exact: true }).click();
    await page.getByRole('button', { name: 'seed 1003', exact: true }).click();
    await page.getByRole('button', { name: 'Interpolate' }).click();
    await page.locator('[data-testid=path] canvas').nth(7).waitFor({ timeout: 60_000 });
  });

  it('publishing a picked tile returns a share link', async () => {
    await page.getByRole('button', { name: 'seed 1000', exact: true }).click(); // unpick: seed 1003 stays picked
    await page.getByRole('button', { name: /^Publish seed 1003$/ }).click();
    const link = page.getByTestId('share-link');
    await link.waitFor({ timeout: 60_000 });
    state.shareUrl = (await link.getAttribute('href'))!;
    assert.match(state.shareUrl, /\/i\/[A-Za-z0-9]{16}$/);
  });

  it('voting on the share page counts once per visitor and survives a reload', async () => {
    await page.goto(state.shareUrl);
    await page.getByRole('button', { name: 'upvote' }).click();
    await page.getByTestId('score').filter({ hasText: /^1$/ }).waitFor();
    await page.getByRole('button', { name: 'upvote' }).click(); // clicking your vote again withdraws it
    await page.getByTestId('score').filter({ hasText: /^0$/ }).waitFor();
    await page.getByRole('button', { name: 'upvote' }).click();
    await page.getByTestId('score').filter({ hasText: /^1$/ }).waitFor();
    await page.reload();
    assert.equal((await page.getByTestId('score').textContent())!, '1');
    assert.equal(
      (await page.getByRole('button', { name: 'upvote' }).getAttribute('aria-pressed'))!,
      'true',
    );
  });

  it('the share link, opened fresh, shows the picture and unfurls with Open Graph and Twitter tags', async () => {
    const stranger = await browser.newContext();
    const p = await stranger.newPage();
    await p.goto(state.shareUrl);
    const img = p.getByTestId('share-image');
    await img.waitFor();
    assert.equal(await img.evaluate((el: HTMLImageElement) => el.naturalWidth), 32);
    assert.equal(await img.evaluate((el) => getComputedStyle(el).imageRendering), 'pixelated');
    // The server's render of seed 1003 is the studio's tile 3 of the grid from seed 1000 (one
    // path from seed to image in @ganstudio/models; the backends differ by float rounding only).
    const served = await p.evaluate(
      async (src) => {
        const bitmap = await createImageBitmap(await (await fetch(src)).blob());
        const ctx = new OffscreenCanvas(32, 32).getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        return Array.from(ctx.getImageData(0, 0, 32, 32).data);
      },
      (await img.getAttribute('src'))!,
    );
    let worst = 0;
    served.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - state.grid[3][i]))));
    assert.ok(
      worst <= 3,
      `server render of seed 1003 and ${state.backend} tile 3 differ by up to ${worst}/255`,
    );
    assert.ok(
      (state['grid'] as number[][])[3]!.some((v, i) => v !== state['grid'][0][i]),
      'tiles 0 and 3 are different images',
    );
    // On the same backend as the server's render (wasm) the studio's tile is the served image,
    // up to one grey level of float rounding between the browser's and Node's wasm builds.
    let sameBackend = 0;
    served.forEach(
      (v, i) => (sameBackend = Math.max(sameBackend, Math.abs(v - state.wasmGrid[3][i]))),
    );
    assert.ok(sameBackend <= 1, `server render and wasm tile 3 differ by up to ${sameBackend}/255`);
    const og = (await p.locator('meta[property="og:image"]').getAttribute('content'))!;
    assert.match(og, /\/i\/[A-Za-z0-9]{16}\/og\.png$/);
    assert.equal(
      (await p.locator('meta[name="twitter:card"]').getAttribute('content'))!,
      'summary_large_image',
    );
    assert.match(
      (await p.locator('meta[property="og:title"]').getAttribute('content'))!,
      /^Seed 1003/,
    );
    const res = await p.request.get(og);
    assert.equal(res.status(), 200);
    const png = await res.body();
    assert.equal(png.readUInt32BE(16), 1200);
    assert.equal(png.readUInt32BE(20), 630);
    // A stranger has not voted: score 1, their buttons not pressed.
    assert.equal((await p.getByTestId('score').textContent())!, '1');
    assert.equal(
      (await p.getByRole('button', { name: 'upvote' }).getAttribute('aria-pressed'))!,
      'false',
    );
    await stranger.close();
  });

  it('the gallery lists the published image and the bundled run has its grids and curves', async () => {
    await page.goto(`${base}/?sort=top`);
    const id = state.shareUrl.split('/').pop();
    await page.locator(`a[href="/i/${id}"]`).waitFor();
    await page.goto(`${base}/runs`);
    await page.locator('table a').first().click();
    await page.locator('img[alt^="epoch"]').first().waitFor();
    await page.locator('svg polyline').first().waitFor();
  });

  it('runs compare: curves measured alike are overlaid; an EMA run and a raw one are refused, naming the field', async () => {
    const p = await visitor.newPage();
    const compare = async (a: string, b: string) => {
      await p.goto(`${base}/runs`);
      const boxes = p.locator('input[type=checkbox][name=id]');
      assert.ok((await boxes.count()) >= 2, 'the bundled reference runs are listed');
      await p.locator(`input[value="${a}"]`).check();
      await p.locator(`input[value="${b}"]`).check();
      await p.getByRole('button', { name: 'Compare selected runs' }).click();
      await p.locator('img[alt*="epoch"]').nth(1).waitFor();
    };
    await compare('narrow32-ttur', 'narrow32-hinge-sn');
    for (const id of ['fid-by-time', 'fid-by-images']) {
      const chart = p.getByTestId(id);
      await chart.waitFor();
      assert.equal(await chart.locator('polyline').count(), 2, id);
    }
    assert.match(await p.getByTestId('compare-passport').innerText(), /2,000 samples/);
    assert.equal(await p.locator('img[alt*="epoch"]').count(), 2);

    // The epoch-10 default (EMA) against the paper run (raw): both logged before passports.
    await compare('dcgan-narrow32-e10', 'paper-dcgan-v3');
    const refused = p.getByTestId('compare-refused');
    await refused.waitFor();
    assert.match(await refused.innerText(), /weights differs: (ema vs raw|raw vs ema)/);
    assert.equal(await p.getByTestId('fid-by-time').count(), 0, 'no overlaid FID curves');
    // The grids still sit side by side: pictures compare whatever the protocol.
    assert.equal(await p.locator('img[alt*="epoch"]').count(), 2);
    await p.close();
  });

  it('a 64×64 model uploaded with the CLI is in the picker; the studio samples it and the server renders it at 64', async () => {
    const p = await visitor.newPage();
    await p.goto(`${base}/studio?seed=5`);
    const option = p.locator('select option', { hasText: 'Tiny 64 (64×64)' });
    await option.waitFor({ state: 'attached', timeout: 60_000 });
    assert.equal((await option.getAttribute('value'))!, model64);
    await p.locator('select').selectOption(model64);
    await p
      .getByTestId('model-size')
      .filter({ hasText: /^64×64 · .* · loaded$/ })
      .waitFor({ timeout: 120_000 });
    // The grid is resampled from the new model: 16 tiles, each a 64×64 canvas.
    await p.waitForFunction(
      () => {
        const cs = [...document.querySelectorAll<HTMLCanvasElement>('[data-testid=grid] canvas')];
        return cs.length === 16 && cs.every((c) => c.width === 64);
      },
      null,
      { timeout: 120_000 },
    );
    const sizes = await p.$$eval('[data-testid=grid] canvas', (cs: HTMLCanvasElement[]) =>
      cs.map((c) => [c.width, c.height]),
    );
    assert.deepEqual(
      sizes,
      Array.from({ length: 16 }, () => [64, 64]),
    );
    await p.getByRole('button', { name: 'seed 7', exact: true }).click();
    await p.getByRole('button', { name: /^Publish seed 7$/ }).click();
    const link = p.getByTestId('share-link');
    await link.waitFor({ timeout: 60_000 });
    await p.goto((await link.getAttribute('href'))!);
    const img = p.getByTestId('share-image');
    await img.waitFor();
    await p.waitForFunction(
      () => document.querySelector<HTMLImageElement>('[data-testid=share-image]')?.complete,
    );
    assert.equal(await img.evaluate((el: HTMLImageElement) => el.naturalWidth), 64);
    await p.close();
  });

  it('a class-conditional model: pick a class, the tiles say it, publish one, the share page names it', async () => {
    const p = await visitor.newPage();
    await p.goto(`${base}/studio?model=${conditional}&seed=20`);
    const picker = p.getByLabel('class', { exact: true });
    await picker.waitFor({ timeout: 60_000 });
    assert.deepEqual(await picker.locator('option').allTextContents(), ['cats', 'dogs', 'owls']);
    await p
      .getByTestId('model-size')
      .filter({ hasText: /loaded$/ })
      .waitFor({ timeout: 120_000 });
    await picker.selectOption({ label: 'dogs' });
    await p.waitForFunction(
      () => {
        const captions = [...document.querySelectorAll('[data-testid=tile-class]')];
        return captions.length === 16 && captions.every((c) => c.textContent === 'dogs');
      },
      null,
      { timeout: 60_000 },
    );
    // Another class at the same seeds draws other pictures.
    const dogs = await gridPixels(p);
    await picker.selectOption({ label: 'owls' });
    await p.waitForFunction(
      () => document.querySelector('[data-testid=tile-class]')?.textContent === 'owls',
    );
    await p.waitForFunction(
      (before) =>
        [...document.querySelectorAll<HTMLCanvasElement>('[data-testid=grid] canvas')].some(
          (c, i) =>
            Array.from(c.getContext('2d')!.getImageData(0, 0, 32, 32).data).join() !==
            before[i]!.join(),
        ),
      dogs,
      { timeout: 60_000 },
    );
    // Morph one tile from owls into cats: a path of 8 images.
    await p.getByRole('button', { name: 'seed 22, owls', exact: true }).click();
    await p.getByLabel('morph into class').selectOption({ label: 'cats' });
    await p.getByRole('button', { name: 'Morph owls into' }).click();
    await p.waitForFunction(
      () => document.querySelectorAll('[data-testid=path] canvas').length === 8,
    );
    await p.getByRole('button', { name: /^Publish seed 22 \(owls\)$/ }).click();
    const link = p.getByTestId('share-link');
    await link.waitFor({ timeout: 60_000 });
    const api = await (
      await p.request.get(
        `${base}/api/images/${(await link.getAttribute('href'))!.split('/').pop()}`,
      )
    ).json();
    assert.equal(api.className, 'owls');
    await p.goto((await link.getAttribute('href'))!);
    assert.equal((await p.getByTestId('share-class').textContent())!, 'A owls');
    assert.match(await p.title(), /^A owls · Seed 22 · Tiny pets/);
    const more = (await p
      .getByRole('link', { name: 'Sample more like this' })
      .getAttribute('href'))!;
    assert.match(more, /[?&]class=owls(&|$)/);
    await p.close();
  });

  it('on a 360-px phone the studio grid fits: 16 tiles side by side, none overlapping or off screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const p = await phone.newPage();
    await p.goto(`${base}/studio?seed=1000`);
    await p.locator('[data-testid=grid] canvas').nth(15).waitFor({ timeout: 120_000 });
    const boxes = await p.$$eval('[data-testid=grid] canvas', (cs) =>
      cs.map((c) => c.getBoundingClientRect().toJSON()),
    );
    for (const [i, r] of boxes.entries()) {
      assert.ok(r.left >= 0 && r.right <= 360, `tile ${i} off screen: ${r.left}–${r.right}`);
      if (i % 4 !== 3)
        assert.ok(
          r.right <= boxes[i + 1].left,
          `tile ${i} overlaps tile ${i + 1}: ${r.right} > ${boxes[i + 1].left}`,
        );
    }
    assert.ok(boxes[0].width >= 64, `tiles too small to see: ${boxes[0].width} px`);
    for (const url of [`${base}/`, state.shareUrl]) {
      await p.goto(url);
      assert.equal(await p.evaluate(() => document.documentElement.scrollWidth), 360, url);
    }
    await phone.close();
  });
  it('the bundled class-conditional model: its classes, and its class fidelity on its page', async () => {
    const { items } = (await (await page.request.get(`${base}/api/models`)).json()) as {
      items: { id: string; runId: string | null; classes: string[] | null; conditional: boolean }[];
    };
    const bundled = items.find((m) => m.runId === 'cdcgan-cifar10');
    assert.ok(bundled, 'the bundled conditional run is registered beside the default');
    assert.equal(bundled.conditional, true);
    assert.deepEqual(bundled.classes, [
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    const p = await visitor.newPage();
    await p.goto(`${base}/models/${bundled.id}`);
    assert.match(
      (await p.getByTestId('class-fidelity').textContent())!,
      /^\d+\.\d% of its samples are called their class by the CIFAR-10 classifier \(chance: 10%\)$/,
    );
    await p.goto(`${base}/runs/cdcgan-cifar10`);
    await p.getByTestId('class-fidelity-chart').waitFor();
    await p.close();
  });

  it('real or generated: 5 rounds with the keyboard, each with feedback, and a running tally', async () => {
    const p = await visitor.newPage();
    await p.goto(`${base}/judge`);
    for (let round = 1; round <= 5; round++) {
      const img = p.getByTestId('judge-image');
      await img.waitFor({ timeout: 60_000 });
      await p.waitForFunction(
        () => document.querySelector<HTMLImageElement>('[data-testid=judge-image]')?.complete,
      );
      assert.equal(await img.evaluate((el: HTMLImageElement) => el.naturalWidth), 32);
      assert.equal(await img.evaluate((el) => getComputedStyle(el).imageRendering), 'pixelated');
      const src = (await img.getAttribute('src'))!;
      assert.match(src, /^\/api\/judge\/[A-Za-z0-9]{16}\/image$/); // opaque: no seed, model or kind in it
      await p.keyboard.press(round % 2 ? 'r' : 'g');
      const verdict = p.getByTestId('verdict');
      await verdict.waitFor({ timeout: 30_000 }); // the first answer may wait out a new identity's few seconds
      assert.match(
        (await verdict.textContent())!,
        /^(Right|Wrong): it was (a real CIFAR-10 photo|generated)/,
      );
      await p
        .getByTestId('tally')
        .filter({ hasText: new RegExp(`of ${round} right$`) })
        .waitFor();
      await p.keyboard.press('n');
      await p.waitForFunction(
        (prev) => document.querySelector('[data-testid=judge-image]')?.getAttribute('src') !== prev,
        src,
      );
    }
    await p.close();
  });

  it('the leaderboard and the model page show the model, its FID and its judgements', async () => {
    const p = await visitor.newPage();
    await p.goto(`${base}/leaderboard`);
    const row = p.locator('[data-testid=leaderboard] tbody tr').first();
    await row.waitFor();
    assert.match((await row.textContent())!, /DCGAN · CIFAR-10/);
    assert.match((await row.textContent())!, /not ranked yet: [0-5] of 30 judgements/);
    assert.match((await row.textContent())!, /\d+\.\d\d CIFAR-10 classifier features/);
    await row.locator('a').first().click();
    await p.getByTestId('model-card').waitFor();
    assert.match(
      (await p.getByTestId('model-card').textContent())!,
      /FID\d+\.\d\d \(CIFAR-10 classifier features, 2,000 samples/,
    );
    // Beside FID: KID with its spread, precision/recall, the copy share and the passport.
    assert.match((await p.getByTestId('model-kid').textContent())!, /^0\.\d{4} ± 0\.\d{4} \(lower/);
    assert.match(
      (await p.getByTestId('model-precision-recall').textContent())!,
      /^\d+\.\d% of its samples look like real photos; it covers \d+\.\d% /,
    );
    assert.match(
      (await p.getByTestId('model-copies').textContent())!,
      /^\d+\.\d% of its samples are nearer/,
    );
    assert.match(
      (await p.getByTestId('model-passport').textContent())!,
      /cifar10-classifier@\w+ features, resize none \(32×32\), 2,000 samples vs cifar10 train \(50,000, sha256:[0-9a-f]{16}\); stream batches; ema weights, uint8/,
    );
    // A run with measured epochs (the 64×64 one uploaded with the CLI): KID with its band,
    // precision/recall by epoch, and the passport of its curve.
    await p.goto(`${base}/runs/tiny64`);
    await p.getByTestId('kid-chart').locator('polygon[data-band]').waitFor();
    assert.equal(await p.getByTestId('precision-recall-chart').locator('polyline').count(), 2);
    assert.match(
      (await p.getByTestId('run-passport').textContent())!,
      /resize bilinear 64→32 \(half-pixel centres\), 300 samples vs images:.*; stream batches; ema weights, float32/,
    );
    // A CIFAR-layout run logged its floor and ceiling: reference lines and the scale table.
    await p.goto(`${base}/runs/${cifarRun}`);
    await p.getByTestId('kid-chart').locator('[data-rule="real images"]').waitFor();
    assert.equal(
      await p.getByTestId('precision-recall-chart').locator('[data-rule]').count(),
      2,
      'real precision and real recall',
    );
    const scale = await p.getByTestId('run-scale').locator('tbody tr').allTextContents();
    assert.equal(scale.length, 3);
    assert.ok(scale[0] && scale[1] && scale[2]);
    assert.match(scale[0], /^real test images \(floor\)\d+\.\d\d/);
    assert.match(scale[1], /^this run, last point\d+\.\d\d/);
    assert.match(scale[2], /^uniform noise \(ceiling\)\d+\.\d\d/);
    await p.goto(`${base}/leaderboard`);
    assert.match(
      (await p.getByTestId('passports').textContent())!,
      /^A.*2,000 samples vs cifar10 train/,
    );
    await p.close();
  });

  it('on a 360-px phone the judge page and the leaderboard fit the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const p = await phone.newPage();
    await p.goto(`${base}/judge`);
    await p.getByTestId('judge-image').waitFor({ timeout: 60_000 });
    const boxes = await p.$$eval('[data-testid=judge-image], button', (els) =>
      els.map((e) => e.getBoundingClientRect().toJSON()),
    );
    for (const r of boxes)
      assert.ok(r.left >= 0 && r.right <= 360, `off screen: ${r.left}–${r.right}`);
    const [image, real, fake] = boxes;
    assert.ok(image.width >= 300, `image too small: ${image.width}`);
    assert.ok(real.bottom <= fake.top || real.right <= fake.left, 'the two answer buttons overlap');
    assert.ok(image.bottom <= real.top, 'the buttons overlap the image');
    for (const url of [`${base}/judge`, `${base}/leaderboard`]) {
      await p.goto(url);
      assert.equal(await p.evaluate(() => document.documentElement.scrollWidth), 360, url);
    }
    await phone.close();
  });

  it('every page settles for a first-time visitor: idle within 2 s, nothing aborted, one server render', async () => {
    const ready: Record<string, (p: Page) => Promise<unknown>> = {
      // The studio once its model has loaded and sampled; the judge once its first round shows
      // (a new visitor's identity counts after a few seconds, and the round waits for it).
      '/studio': (p) =>
        p.locator('[data-testid=grid] canvas').nth(15).waitFor({ timeout: 120_000 }),
      '/judge': (p) => p.getByTestId('judge-image').waitFor({ timeout: 60_000 }),
    };
    const { items } = (await (await page.request.get(`${base}/api/models`)).json()) as {
      items: { id: string; runId: string | null; classes: string[] | null; conditional: boolean }[];
    };
    const shipped = items.find((m) => m.runId === 'dcgan-cifar10');
    assert.ok(shipped, 'the bundled default model is registered');
    const pages = ['/', '/leaderboard', '/runs', `/models/${shipped.id}`, '/judge', '/studio'];
    for (const path of [...pages, new URL(state.shareUrl).pathname]) {
      const context = await browser.newContext();
      const p = await context.newPage();
      const failed: string[] = [];
      const errors: string[] = [];
      const renders: string[] = [];
      let inflight = 0;
      let last = Date.now();
      p.on('request', (r) => {
        inflight++;
        last = Date.now();
        // A server render: the page itself, or an RSC request (a prefetch or a navigation).
        if (r.resourceType() === 'document' || r.url().includes('_rsc=')) renders.push(r.url());
      });
      p.on('requestfinished', () => {
        inflight--;
        last = Date.now();
      });
      p.on('requestfailed', (r) => {
        inflight--;
        last = Date.now();
        failed.push(`${r.url()} ${r.failure()?.errorText}`);
      });
      p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await p.goto(`${base}${path}`, { waitUntil: 'load' });
      await ready[path]?.(p);
      const from = Date.now();
      // Network idle: 500 ms with no request in flight.
      while (!(inflight === 0 && Date.now() - last >= 500) && Date.now() - from < 10_000)
        await p.waitForTimeout(50);
      assert.ok(inflight === 0, `${path}: ${inflight} requests still in flight after 10 s`);
      assert.ok(last - from <= 2_000, `${path}: network busy ${last - from} ms after load`);
      await p.waitForTimeout(1_000); // and it stays quiet: no late prefetch storm
      assert.deepEqual(failed, [], `${path}: aborted or failed requests`);
      assert.deepEqual(errors, [], `${path}: console errors`);
      assert.deepEqual(renders, [`${base}${path}`], `${path}: server renders of one view`);
      await context.close();
    }
  });

  it('pages carry a per-request nonce CSP (no inline scripts without it) and ran with no violation', async () => {
    const csp = async () =>
      (await page.request.get(`${base}/studio`)).headers()['content-security-policy'];
    const [a, b] = [(await csp()) ?? '', await csp()];
    const scripts = a.split(';').find((d) => d.trim().startsWith('script-src'));
    assert.ok(scripts);
    assert.match(scripts, /'nonce-[A-Za-z0-9+/=]{20,}'/);
    assert.doesNotMatch(scripts, /'unsafe-inline'/);
    assert.notEqual(a, b, 'the nonce must change per request');
    for (const directive of [
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "'wasm-unsafe-eval'",
    ])
      assert.ok(a.includes(directive), directive);
    const api = await page.request.get(`${base}/api/models`);
    assert.match(api.headers()['permissions-policy'] ?? '', /camera=\(\)/);
    assert.deepEqual(violations, []);
  });
});
