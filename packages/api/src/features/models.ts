/** Models: the published generators, as the studio's picker and the server render know them. */
import { desc, eq } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { models, type Model, type ModelMetrics } from '@ganstudio/db/schema';

import type { Core, Route } from '../core';
import { json } from '../http';

export async function listModels(db: Db): Promise<Model[]> {
  return db.select().from(models).orderBy(desc(models.isDefault), desc(models.createdAt));
}

export async function getModel(db: Db, id: string): Promise<Model | undefined> {
  const [row] = await db.select().from(models).where(eq(models.id, id));
  return row;
}

export async function insertModel(db: Db, row: typeof models.$inferInsert): Promise<Model> {
  return db.transaction(async (tx) => {
    if (row.isDefault)
      await tx.update(models).set({ isDefault: false }).where(eq(models.isDefault, true));
    const [inserted] = await tx
      .insert(models)
      .values(row)
      .onConflictDoUpdate({ target: models.id, set: { ...row, createdAt: undefined } })
      .returning();
    if (!inserted) throw new Error(`model ${row.id}: the upsert returned no row`);
    return inserted;
  });
}

/** Replaces a model's own measurement (its run folder gained one): nothing else of it changes. */
export async function setModelMetrics(db: Db, id: string, metrics: ModelMetrics): Promise<void> {
  await db.update(models).set({ metrics }).where(eq(models.id, id));
}

/**
 * A model as the API shows it: everything but the storage key of its files, and whether it is
 * class-conditional (`classes` then lists its class names, index order; publish one with `class`).
 */
export function modelJson({ modelKey: _key, ...model }: Model) {
  return { ...model, conditional: model.classes !== null };
}

export function modelRoutes(core: Core): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/models',
      summary: 'The published models → `{items}`, each with `conditional` and `classes`.',
      async handle() {
        return json({ items: (await listModels(core.db)).map(modelJson) });
      },
    },
  ];
}
