/**
 * Images: the gallery's published samples. One image, publishing (the server re-renders model + seed; never pixels from a client) and the share
 * card, with their queries and the one JSON shape an image has, for the API and the pages alike. The
 * listing is in ./image-list.
 */
import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { z } from 'zod';

import type { Db } from '@ganstudio/db/client';
import { images, models, votes, type Image, type Model } from '@ganstudio/db/schema';
import { classIndex } from '@ganstudio/models/gan';
import type { BlobStore } from '@ganstudio/storage';

import { cardKey } from '../card';
import type { Core, Route } from '../core';
import { DbError, HttpError, Id, json, newId, readJson } from '../http';
import { PAGE_SIZE, RETENTION_BATCH, RETENTION_SWEEP_EVERY_MS } from '../policy';
import type { RenderableModel, Renderer } from '../render';
import { visitorOfRequest } from '../visitor';
import { imageJson, imagePage, listImages, type ImageRow } from './image-list';
import { getModel, listModels } from './models';

export async function getImage(
  db: Db,
  id: string,
): Promise<(ImageRow & { model: Model }) | undefined> {
  const [row] = await db
    .select({ image: images, model: models })
    .from(images)
    .innerJoin(models, eq(models.id, images.modelId))
    .where(eq(images.id, id));
  return row
    ? { ...row.image, modelName: row.model.name, modelClasses: row.model.classes, model: row.model }
    : undefined;
}

export async function findImageBySeed(
  db: Db,
  modelId: string,
  seed: number,
  classIndex: number | null = null,
): Promise<Image | undefined> {
  const [row] = await db
    .select()
    .from(images)
    .where(
      and(
        eq(images.modelId, modelId),
        eq(images.seed, seed),
        classIndex === null ? isNull(images.classIndex) : eq(images.classIndex, classIndex),
      ),
    );
  return row;
}

export async function insertImage(db: Db, row: typeof images.$inferInsert): Promise<Image> {
  const [inserted] = await db.insert(images).values(row).onConflictDoNothing().returning();
  if (inserted) return inserted;
  // Same model and seed published concurrently: the first one wins, and is the answer.
  const existing = await findImageBySeed(db, row.modelId, row.seed, row.classIndex ?? null);
  if (!existing) throw new DbError('conflict', 'image id collision');
  return existing;
}

const PublishBody = z
  .object({
    modelId: Id,
    seed: z.number().int().min(0).max(0xffffffff),
    /** A class-conditional model's class: its index or its name. */
    class: z.union([z.number().int().min(0).max(999), z.string().min(1).max(64)]).optional(),
  })
  .strict();

/**
 * The class a publish asks for, checked against the model: required by a class-conditional model
 * (an index or a name of its classes), refused by an unconditional one. 400s with one message.
 */
export function requestedClass(
  model: Pick<Model, 'classes'>,
  value: number | string | undefined,
): number | null {
  const classes = model.classes;
  if (!classes) {
    if (value !== undefined)
      throw new HttpError(400, 'invalid', 'this model is unconditional: it takes no class');
    return null;
  }
  if (value === undefined)
    throw new HttpError(
      400,
      'invalid',
      `this model draws a class: give one of ${classes.join(', ')}`,
    );
  try {
    return classIndex(value, classes);
  } catch (err) {
    throw new HttpError(400, 'unknown_class', (err as Error).message);
  }
}
const ListQuery = z.object({
  sort: z.enum(['new', 'top']).default('new'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(PAGE_SIZE),
});

/**
 * Renders (model, seed) on the server and registers the image: blob first, then row; on a failed
 * insert the blob is removed, so no row points at nothing. The same model and seed published
 * concurrently keep the first image.
 */
async function storeNewImage(
  { db, store, renderer }: { db: Db; store: BlobStore; renderer: Renderer },
  model: RenderableModel,
  seed: number,
  classIndex: number | null = null,
): Promise<Image> {
  const png = await renderer.render(model, seed, classIndex);
  const id = newId();
  const key = `images/${id}.png`;
  let url: string;
  try {
    ({ url } = await store.put(key, png, 'image/png'));
  } catch (err) {
    await store.delete(key).catch(() => {}); // a partial upload, if the store left one
    console.error('blob store put failed', err);
    throw new HttpError(
      503,
      'storage_unavailable',
      'the image store is unavailable; nothing was published, try again',
    );
  }
  try {
    const image = await insertImage(db, {
      id,
      modelId: model.id,
      seed,
      classIndex,
      pngUrl: url,
      pngKey: key,
    });
    if (image.id !== id) await store.delete(key); // same seed published concurrently: keep the first
    return image;
  } catch (err) {
    await store.delete(key).catch(() => {});
    throw err;
  }
}

const lastRetentionSweep = new WeakMap<Db, number>();

/**
 * The retention rule (IMAGE_RETENTION_DAYS; unset, the default, keeps every image): an image older
 * than `days` that nobody voted on and whose share card nobody asked for is deleted, its row first
 * (re-checked in the DELETE, so a vote that lands meanwhile keeps it) and then its PNG. At most
 * RETENTION_BATCH per sweep, at most one sweep an hour per process and database.
 */
export async function sweepUnwantedImages(
  deps: { db: Db; store: BlobStore },
  days: number,
  now: number,
  force = false,
): Promise<number> {
  const { db, store } = deps;
  if (!force && now - (lastRetentionSweep.get(db) ?? 0) < RETENTION_SWEEP_EVERY_MS) return 0;
  lastRetentionSweep.set(db, now);
  const unwanted = and(
    lt(images.createdAt, new Date(now - days * 86_400_000)),
    isNull(images.sharedAt),
    sql`not exists (select 1 from ${votes} where ${votes.imageId} = ${images.id})`,
  );
  const candidates = db
    .select({ id: images.id })
    .from(images)
    .where(unwanted)
    .orderBy(asc(images.createdAt))
    .limit(RETENTION_BATCH);
  const gone = await db
    .delete(images)
    .where(and(inArray(images.id, candidates), unwanted))
    .returning({ id: images.id, pngKey: images.pngKey });
  for (const image of gone) {
    await store.delete(image.pngKey);
    await store.delete(cardKey(image.id));
  }
  return gone.length;
}

/** Records that an image's card was asked for: from then on the retention rule keeps it. */
async function markShared(db: Db, id: string) {
  await db
    .update(images)
    .set({ sharedAt: sql`now()` })
    .where(and(eq(images.id, id), isNull(images.sharedAt)));
}

/**
 * A new gallery is not empty: the default model's images for seeds 0…count−1, published once on
 * first start (a model that has images already is left alone).
 */
export async function publishStarterSet(
  deps: { db: Db; store: BlobStore; renderer: Renderer },
  count = 24,
): Promise<number> {
  const model = (await listModels(deps.db)).find((m) => m.isDefault);
  if (!model || (await listImages(deps.db, 'new', null, 1)).items.length) return 0;
  const classes = model.classes?.length ?? 0;
  for (let seed = 0; seed < count; seed++)
    await storeNewImage(deps, model, seed, classes ? seed % classes : null);
  return count;
}

export function imageRoutes(core: Core): Route[] {
  const { db, store, renderer, secret } = core;
  return [
    {
      method: 'GET',
      path: '/api/images',
      summary:
        'Published images, newest or top first: `?sort=new|top&cursor=…&limit=…` → `{items, nextCursor}`.',
      async handle(request) {
        const url = new URL(request.url);
        const parsed = ListQuery.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success)
          throw new HttpError(400, 'invalid', parsed.error.issues[0]?.message ?? 'bad query');
        const visitor = await visitorOfRequest(request, secret, core.secure(request));
        return json(
          await imagePage(db, {
            sort: parsed.data.sort,
            cursor: parsed.data.cursor ?? null,
            limit: parsed.data.limit,
            visitorId: visitor?.id,
          }),
        );
      },
    },
    {
      method: 'POST',
      path: '/api/images',
      summary:
        'Publish a seed of a model: `{modelId, seed, class?}` → 201 `{id, url, shareUrl}`. `class` (a name or an index) is required by a conditional model and refused by any other. Needs a visitor identity old enough, from a same-origin page; budgeted per site and per address.',
      async handle(request, _params, f) {
        await core.admit(request, f, 'publish', 'publishPerIp', 'publishPerVisitor');
        const body = await readJson(request, PublishBody);
        const model = await getModel(db, body.modelId);
        if (!model) throw new HttpError(404, 'not_found', 'no such model');
        const cls = requestedClass(model, body.class);
        const shareUrl = (id: string) => `${core.origin(request)}/i/${id}`;
        const existing = await findImageBySeed(db, model.id, body.seed, cls);
        if (existing)
          return json({ id: existing.id, url: existing.pngUrl, shareUrl: shareUrl(existing.id) });
        // Only a new image renders and is stored, so only it spends the site's budget, and one
        // address may spend a small share of that (its own daily budget), so it cannot use up everyone's.
        await core.spend('publish', [
          ...core.perAddress('publishPerIpDaily', f),
          core.bucket('publishGlobal', 'site'),
          core.bucket('publishGlobalDaily', 'site'),
        ]);
        const image = await storeNewImage({ db, store, renderer }, model, body.seed, cls);
        // New images are what the store grows by, so the retention rule runs beside them.
        if (core.imageRetentionDays)
          await sweepUnwantedImages({ db, store }, core.imageRetentionDays, core.now()).catch(
            (err: unknown) =>
              console.error(
                `image retention sweep: ${err instanceof Error ? err.message : String(err)}`,
              ),
          );
        return json({ id: image.id, url: image.pngUrl, shareUrl: shareUrl(image.id) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/api/images/:id',
      summary: 'One published image with its score.',
      async handle(_request, { id = '' }) {
        const image = Id.safeParse(id).success ? await getImage(db, id) : undefined;
        if (!image) throw new HttpError(404, 'not_found', 'no such image');
        return json(imageJson(image));
      },
    },
    {
      method: 'GET',
      path: '/i/:id/og.png',
      summary:
        "The image's share card (Open Graph), built once and stored; the first request marks the image shared.",
      async handle(_request, { id = '' }) {
        const image = Id.safeParse(id).success ? await getImage(db, id) : undefined;
        const bytes = image ? await core.card(image) : undefined;
        if (!image || !bytes) throw new HttpError(404, 'not_found', 'no such image');
        if (!image.sharedAt) await markShared(db, image.id);
        return new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: {
            'content-type': 'image/png',
            // An image's card never changes: its id is never reused and its pixels are fixed.
            'cache-control': 'public, max-age=31536000, immutable',
            'x-content-type-options': 'nosniff',
          },
        });
      },
    },
  ];
}
