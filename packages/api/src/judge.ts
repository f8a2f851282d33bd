/**
 * "Real or generated?": HYPE∞ (Zhou et al., NeurIPS 2019, "HYPE: A Benchmark for Human
 * eYe Perceptual Evaluation of Generative Models"). A visitor sees one image at a time with no
 * time limit and says real or generated; half the trials show a real CIFAR-10 test image, half a
 * sample of the least-judged model at a random seed, rendered here.
 *
 * Nothing tells the truth before the answer: the image URL is the trial's opaque id; both kinds
 * are PNGs from one encoder with deflate level 0, so every image has the same byte count; headers
 * are identical; and both kinds do the same work (a model is picked and a sample rendered for real
 * trials too, then discarded), so the response time does not give it away either.
 */
import { decodePng, encodePng } from '@ganstudio/models/image';
import type { Db } from '@ganstudio/db/client';
import {
  answerTrial,
  countRealImages,
  createTrial,
  humanCounts,
  leastJudgedModel,
  modelsWithQuality,
  realImageAt,
  trialImage,
  type HumanCounts,
  type Truth,
} from '@ganstudio/db/judge';
import type { Renderer } from './render';

/** A trial not answered within this is gone (410). */
export const TRIAL_TTL_MS = 10 * 60_000;
/** Fewer judgements than this and a model is listed, not ranked. */
export const MIN_JUDGEMENTS_TO_RANK = 30;

/**
 * Wilson score interval for k successes in n trials (Wilson 1927), z = 1.96 for 95%: unlike the
 * normal approximation it stays inside [0, 1] and is honest at small n and rates near 0 or 1.
 */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface HumanScore {
  modelId: string;
  judgements: number;
  fooled: number;
  /** Share of this model's samples judged real. */
  foolRate: number | null;
  ci95: [number, number] | null;
  realJudgements: number;
  /** Share of real images judged generated in the same period: the control. */
  realErrorRate: number | null;
  /**
   * HYPE∞: the error rate over real and generated images together, each kind weighted equally
   * (the paper shows equal numbers of each, where this is its pooled error): 50% means people
   * cannot tell the model's samples from real images.
   */
  hype: number | null;
}

export function humanScore(modelId: string, c: HumanCounts | undefined): HumanScore {
  const judgements = c?.judgements ?? 0;
  const fooled = c?.fooled ?? 0;
  const realJudgements = c?.realJudgements ?? 0;
  const foolRate = judgements ? fooled / judgements : null;
  const realErrorRate = realJudgements ? (c?.realErrors ?? 0) / realJudgements : null;
  return {
    modelId,
    judgements,
    fooled,
    foolRate,
    ci95: wilson(fooled, judgements),
    realJudgements,
    realErrorRate,
    hype: foolRate !== null && realErrorRate !== null ? (foolRate + realErrorRate) / 2 : null,
  };
}

/** Every model with its human numbers, FID and mean vote: ranked ones by HYPE∞, best first. */
export async function leaderboard(db: Db) {
  const [counts, quality] = await Promise.all([humanCounts(db), modelsWithQuality(db)]);
  const rows = quality.map((q) => {
    const human = humanScore(q.model.id, counts.get(q.model.id));
    return {
      ...human,
      name: q.model.name,
      epoch: q.model.epoch,
      runId: q.model.runId,
      ranked: human.judgements >= MIN_JUDGEMENTS_TO_RANK && human.hype !== null,
      fid: q.fid,
      isScore: q.isScore,
      featureNetwork: q.featureNetwork,
      fidSamples: q.fidSamples,
      images: q.images,
      meanVote: q.meanVote,
    };
  });
  rows.sort((a, b) =>
    a.ranked !== b.ranked
      ? Number(b.ranked) - Number(a.ranked)
      : a.ranked
        ? b.hype! - a.hype! || b.judgements - a.judgements
        : b.judgements - a.judgements,
  );
  let rank = 0;
  return rows.map((r) => ({ ...r, rank: r.ranked ? ++rank : null }));
}

/** A uniformly random 32-bit value from Web Crypto. */
const randomU32 = () => crypto.getRandomValues(new Uint32Array(1))[0]!;

export type TrialStart =
  { ok: true; trialId: string } | { ok: false; reason: 'no_models' | 'no_real_images' };

/** Creates one trial for `visitorId`: a fair coin picks real or generated, server-side. */
export async function startTrial(
  db: Db,
  renderer: Renderer,
  visitorId: string,
  newId: () => string,
  now: number,
): Promise<TrialStart> {
  const [model, realCount] = await Promise.all([leastJudgedModel(db), countRealImages(db)]);
  if (!model) return { ok: false, reason: 'no_models' };
  if (!realCount) return { ok: false, reason: 'no_real_images' };
  const truth: Truth = randomU32() & 1 ? 'real' : 'generated';
  const seed = randomU32();
  // Both kinds render and read a real image, so neither answers faster than the other.
  const [sample, real] = await Promise.all([
    renderer.render(model, seed),
    realImageAt(db, randomU32() % realCount),
  ]);
  if (!real) return { ok: false, reason: 'no_real_images' };
  const png = truth === 'real' ? real.png : encodePng(decodePng(sample), { level: 0 });
  const trialId = newId();
  await createTrial(db, {
    id: trialId,
    visitorId,
    kind: truth,
    ...(truth === 'real' ? { realImageId: real.id } : { modelId: model.id, seed }),
    png,
    expiresAt: new Date(now + TRIAL_TTL_MS),
  });
  return { ok: true, trialId };
}

export { answerTrial, trialImage };
