/**
 * The gallery's one schema (Drizzle pg-core), the same for PGlite and Postgres. Migrations are
 * generated from this file with drizzle-kit and committed in ../drizzle.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

import type { Measurement } from '@ganstudio/models/measurement';

/**
 * Ids of runs, models and images, as they appear in URLs and API bodies: 1–64 letters, digits,
 * `-` or `_`. The API's validation, the pages' lookups and the run publisher all use these.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const isId = (value: string): boolean => ID_PATTERN.test(value);
/** A name (e.g. a run folder's) made into an id: other characters become `-`, cut at 64. */
export const toId = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** PNG bytes in the row (node-postgres gives a Buffer, PGlite a Uint8Array: both are read as Uint8Array). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
});

/** A training run: its recipe, where it ran and how fast. */
export const runs = pgTable('runs', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull(),
  status: text('status', { enum: ['running', 'finished', 'stopped'] }).notNull(),
  backend: text('backend').notNull(),
  imagesPerSec: real('images_per_sec'),
  epochs: integer('epochs').notNull().default(0),
  createdAt: created(),
});

/** Per-epoch sample grids of a run (a fixed latent, so epochs compare). */
export const runSamples = pgTable(
  'run_samples',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    epoch: integer('epoch').notNull(),
    url: text('url').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.epoch] })],
);

/** A run's metric series: one row per logged step (losses; FID / IS where measured). */
export const runMetrics = pgTable(
  'run_metrics',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    /** 1-based: the epoch the step belongs to (an FID point: the epochs completed). */
    epoch: integer('epoch').notNull(),
    // A point's fields are named as the run folder's lines name them (the step line's losses and
    // clock, the Measurement's numbers: @ganstudio/models/measurement), so a row is a line.
    d_loss: real('d_loss'),
    g_loss: real('g_loss'),
    /** Training seconds at this step (across sittings): FID by wall clock when runs are compared. */
    elapsed_s: real('elapsed_s'),
    fid: real('fid'),
    is_mean: real('is_score'),
    class_fidelity: real('class_fidelity'),
    kid: real('kid'),
    kid_std: real('kid_std'),
    precision: real('precision'),
    recall: real('recall'),
    copies: real('copies'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.step] })],
);

/**
 * A published model's numbers measured on the very weights it serves (e.g. uint8), with the
 * passport they were measured on: shown in place of its run's curve
 * point, which is of the float32 weights the trainer sampled.
 */
export type ModelMetrics = Partial<Measurement>;

/** A published generator (TF.js layers format in the blob store). */
export const models = pgTable('models', {
  id: text('id').primaryKey(),
  runId: text('run_id').references(() => runs.id, { onDelete: 'set null' }),
  name: text('name').notNull(),
  epoch: integer('epoch').notNull(),
  quantization: text('quantization', { enum: ['float32', 'float16', 'uint8'] }).notNull(),
  modelJsonUrl: text('model_json_url').notNull(),
  /** Storage key of model.json, for the server's own re-render. */
  modelKey: text('model_key').notNull(),
  sizeBytes: integer('size_bytes').notNull(),
  latentDim: integer('latent_dim').notNull(),
  /** Side of the images it draws: 32 or 64 (the studio, the render and the card size by it). */
  resolution: integer('resolution').notNull().default(32),
  /** Its own measurement (these quantized weights), when its run folder has one; else {}. */
  metrics: jsonb('metrics').$type<ModelMetrics>().notNull().default({}),
  /** A class-conditional generator's class names, index order; null for an unconditional one. */
  classes: jsonb('classes').$type<string[]>(),
  note: text('note'),
  isDefault: boolean('is_default').notNull().default(false),
  createdAt: created(),
});

/** A published sample: re-rendered by the server from (model, seed); never pixels from a client. */
export const images = pgTable(
  'images',
  {
    /** Random, 16 base62 characters: ids cannot be enumerated. */
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    /** Latent seed, an unsigned 32-bit integer. */
    seed: bigint('seed', { mode: 'number' }).notNull(),
    /** The class it was drawn in (an index into its model's classes); null for an unconditional model. */
    classIndex: smallint('class_index'),
    pngUrl: text('png_url').notNull(),
    pngKey: text('png_key').notNull(),
    score: integer('score').notNull().default(0),
    createdAt: created(),
    /**
     * When its share card was first asked for (a link unfurled somewhere): a shared image is
     * never removed by the retention rule (IMAGE_RETENTION_DAYS). Null: never shared.
     */
    sharedAt: timestamp('shared_at', { withTimezone: true }),
  },
  (t) => [
    index('images_new_idx').on(t.createdAt.desc(), t.id.desc()),
    index('images_top_idx').on(t.score.desc(), t.createdAt.desc(), t.id.desc()),
    // One image per (model, seed, class); an unconditional model's class is null, counted as one value.
    uniqueIndex('images_model_seed_class_idx').on(
      t.modelId,
      t.seed,
      sql`coalesce(${t.classIndex}, -1)`,
    ),
    check('images_seed_u32', sql`${t.seed} >= 0 and ${t.seed} <= 4294967295`),
  ],
);

/** One vote per visitor per image; withdrawing deletes the row. */
export const votes = pgTable(
  'votes',
  {
    imageId: text('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    voterId: text('voter_id').notNull(),
    value: smallint('value').notNull(),
    /**
     * Keyed hash of the network (IPv4 address, IPv6 /48) the vote first came from, never the
     * address itself: cast_vote counts at most a few voters per network per image.
     * Null for votes cast before that rule.
     */
    addr: text('addr'),
    createdAt: created(),
  },
  (t) => [
    primaryKey({ columns: [t.imageId, t.voterId] }),
    index('votes_image_addr_idx').on(t.imageId, t.addr),
    check('votes_value_pm1', sql`${t.value} in (-1, 1)`),
  ],
);

/**
 * Token buckets shared by every instance on one PostgreSQL (rate_take, migrations 0002, 0008):
 * `tokens` left at `at`, refilled continuously up to the bucket's limit.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    tokens: doublePrecision('tokens').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  // Time-ordered, so each rate_take drops a few day-old (full) buckets from the front (0008).
  (t) => [index('rate_limits_at_idx').on(t.at)],
);

/**
 * A set of real images for the judge game, e.g. 1,000 CIFAR-10 test images made by
 * `ganstudio real-set`; `source` says where they come from.
 */
export const realSets = pgTable('real_sets', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  source: text('source').notNull(),
  count: integer('count').notNull(),
  /** Names of the images' labels, index order (null: unlabelled), to match a conditional model's classes. */
  classes: jsonb('classes').$type<string[]>(),
  createdAt: created(),
});

/** One real image, as the PNG the game serves (stored uncompressed: every PNG the same size). */
export const realImages = pgTable(
  'real_images',
  {
    id: text('id').primaryKey(),
    setId: text('set_id')
      .notNull()
      .references(() => realSets.id, { onDelete: 'cascade' }),
    idx: integer('idx').notNull(),
    label: smallint('label'),
    png: bytea('png').notNull(),
  },
  (t) => [uniqueIndex('real_images_set_idx').on(t.setId, t.idx)],
);

/**
 * One round of "real or generated?": what was shown to whom, and the answer. The truth (kind,
 * model, seed, real image) never leaves the server before the answer; `png` is the exact bytes
 * served, kept until the trial is cleaned up after it expires.
 */
export const trials = pgTable(
  'trials',
  {
    id: text('id').primaryKey(),
    visitorId: text('visitor_id').notNull(),
    kind: text('kind', { enum: ['real', 'generated'] }).notNull(),
    modelId: text('model_id').references(() => models.id, { onDelete: 'cascade' }),
    realImageId: text('real_image_id').references(() => realImages.id, { onDelete: 'cascade' }),
    seed: bigint('seed', { mode: 'number' }),
    png: bytea('png'),
    answer: text('answer', { enum: ['real', 'generated'] }),
    correct: boolean('correct'),
    createdAt: created(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    /**
     * Keyed hashes (never the address) of the contributor that opened the trial (IPv4 address or
     * IPv6 /64) and of its network (IPv6 /48; IPv4: the address). Null on trials before 0007.
     */
    contributor: text('contributor'),
    network: text('network'),
    /** Whether the answer was added to the tallies (false beyond its contributor's cap). */
    counted: boolean('counted'),
  },
  (t) => [
    index('trials_model_idx').on(t.modelId, t.answeredAt),
    index('trials_kind_answered_idx').on(t.kind, t.answeredAt),
    index('trials_open_idx')
      .on(t.visitorId, t.expiresAt)
      .where(sql`${t.answer} is null`),
    index('trials_expires_idx').on(t.expiresAt),
    check(
      'trials_truth',
      sql`(${t.kind} = 'real') = (${t.realImageId} is not null) and (${t.kind} = 'generated') = (${t.modelId} is not null)`,
    ),
  ],
);

/**
 * What one contributor added to one subject of the judge game in one period: a model's id, or
 * REAL_SUBJECT for real photographs (the contributor's own control). Kept incrementally by
 * judge_answer (migrations 0007, 0011), capped over the periods a score reads, so the scores never
 * re-read the trials and no contributor weighs more than its cap; periods older than that window
 * drop out of every score and every cap, so an early burst does not hold a model for ever.
 */
export const judgeTallies = pgTable(
  'judge_tallies',
  {
    contributor: text('contributor').notNull(),
    subject: text('subject').notNull(),
    network: text('network').notNull(),
    /** Whole periods since 1970 (judge_answer's p_period_s seconds each) the answers fell in. */
    period: integer('period').notNull(),
    /** Counted answers, and how many were wrong (a sample judged real, a photograph judged generated). */
    judgements: integer('judgements').notNull().default(0),
    wrong: integer('wrong').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.contributor, t.subject, t.period] }),
    index('judge_tallies_network_idx').on(t.network, t.subject),
    index('judge_tallies_subject_idx').on(t.subject),
  ],
);

/** The subject of real-photograph answers in judge_tallies. */
export const REAL_SUBJECT = '@real';

export type Run = typeof runs.$inferSelect;
export type Model = typeof models.$inferSelect;
export type Image = typeof images.$inferSelect;
