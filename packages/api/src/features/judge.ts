/**
 * "Real or generated?": HYPE∞ (Zhou et al., NeurIPS 2019, "HYPE: A Benchmark for Human
 * eYe Perceptual Evaluation of Generative Models"). A visitor sees one image at a time with no
 * time limit and says real or generated; half the trials show a real CIFAR-10 test image, half a
 * sample of a model drawn at random (weighted towards the least judged) at a random seed.
 *
 * Nothing tells the truth before the answer: the image URL is the trial's opaque id; both kinds
 * are PNGs from one encoder with deflate level 0, so every image has the same byte count; headers
 * are identical; and both kinds do the same work (a model is picked and a sample rendered for real
 * trials too, then discarded), so the response time does not give it away either.
 *
 * A human score is a claim about many people, so it is computed from contributors, not requests.
 * The real set is public, so a script can always know the truth of a trial; what it cannot do is
 * weigh more than one contributor. A contributor is a client address (IPv4, or an IPv6 /64) with
 * all its identities; its network is the IPv6 /48 around it (IPv4: the address). Each contributor
 * adds at most JUDGEMENTS_PER_CONTRIBUTOR counted answers per model (and as many on real photos,
 * its control), each network at most NETWORK_FACTOR times that; the database keeps those tallies
 * as answers arrive (judge_answer), and every human number (./leaderboard) is computed from them
 * with the network as the unit: no network weighs more than NETWORK_WEIGHT_SHARE of a score, the
 * 95% intervals are a bootstrap over networks (the paper's bootstrap over evaluators), a model is
 * ranked only with judgements from MIN_NETWORKS_TO_RANK networks, and answers age out after
 * TALLY_WINDOW.
 */
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';

import type { Db } from '@ganstudio/db/client';
import { models, type Model } from '@ganstudio/db/schema';
import { decodePng, encodePng } from '@ganstudio/models/image';

import type { Core, Route } from '../core';
import { HttpError, Id, json, newId, readJson } from '../http';
import {
  MIN_JUDGEMENTS_TO_RANK,
  OPEN_TRIALS_PER_VISITOR,
  TALLY_CAPS,
  TRIAL_TTL_MS,
} from '../policy';
import type { Renderer } from '../render';
import { visitorOfRequest } from '../visitor';
import { answeredByModel, refreshScores } from './leaderboard';
import { countRealImages, realImageAt } from './real-sets';
import {
  answerTrial,
  reserveTrial,
  setTrialImage,
  sweepTrials,
  trialImage,
  type Truth,
} from './trials';

const AnswerBody = z.object({ answer: z.enum(['real', 'generated']) }).strict();

/**
 * The class a generated trial of a conditional model is drawn in: the class of the real image
 * drawn beside it where the model has that class, so the generated images' classes follow the
 * real ones' frequencies and no class gives a sample away; otherwise uniform. Null for an
 * unconditional model.
 */
export function trialClass(
  model: Pick<Model, 'classes'>,
  realClass: string | null,
  u32: number,
): number | null {
  const classes = model.classes;
  if (!classes?.length) return null;
  const same = realClass === null ? -1 : classes.indexOf(realClass);
  return same >= 0 ? same : u32 % classes.length;
}

/**
 * The models the game can show: those drawing at the real images' side (a 64×64 sample next to
 * 32×32 photographs would give itself away by its size). Which one a trial shows is drawn by the
 * API, weighted by answered judgements (judgeTallies).
 */
export async function judgeableModels(db: Db, side = 32): Promise<Model[]> {
  return db.select().from(models).where(eq(models.resolution, side)).orderBy(asc(models.id));
}

/**
 * Which model a generated trial shows: half the probability spread evenly over the models, half
 * in proportion to 1 / (MIN_JUDGEMENTS_TO_RANK + answered judgements), so the least judged are
 * shown most, every model keeps at least half its even share, and a new model does not take every
 * trial. `u` is uniform in [0, 1); the draw is never the same twice by construction.
 */
export function pickModel<M extends { id: string }>(
  candidates: M[],
  answered: (modelId: string) => number,
  u: number,
): M | undefined {
  if (!candidates.length) return undefined;
  const need = candidates.map((m) => 1 / (MIN_JUDGEMENTS_TO_RANK + Math.max(0, answered(m.id))));
  const total = need.reduce((a, b) => a + b, 0);
  let left = u;
  for (let i = 0; i < candidates.length; i++) {
    left -= 0.5 / candidates.length + (0.5 * (need[i] ?? 0)) / total;
    if (left < 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}

/** A uniformly random 32-bit value from Web Crypto. */
const randomU32 = () => crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;

export type TrialStart =
  | { ok: true; trialId: string }
  | { ok: false; reason: 'no_models' | 'no_real_images' | 'too_many_open' };

/** Who opened a trial: keyed hashes of its contributor and network (see the module comment). */
export interface TrialOrigin {
  contributor: string;
  network: string;
}

/** Creates one trial for `visitorId`: a fair coin picks real or generated, server-side. */
export async function startTrial(
  db: Db,
  renderer: Renderer,
  visitorId: string,
  origin: TrialOrigin,
  newId: () => string,
  now: number,
): Promise<TrialStart> {
  const [candidates, realCount, answered] = await Promise.all([
    judgeableModels(db),
    countRealImages(db),
    answeredByModel(db),
  ]);
  const model: Model | undefined = pickModel(
    candidates,
    (id) => answered.get(id) ?? 0,
    randomU32() / 2 ** 32,
  );
  if (!model) return { ok: false, reason: 'no_models' };
  if (!realCount) return { ok: false, reason: 'no_real_images' };
  const truth: Truth = randomU32() & 1 ? 'real' : 'generated';
  const seed = randomU32();
  const real = await realImageAt(db, randomU32() % realCount);
  if (!real) return { ok: false, reason: 'no_real_images' };
  const trialId = newId();
  const reserved = await reserveTrial(
    db,
    {
      id: trialId,
      visitorId,
      kind: truth,
      ...(truth === 'real' ? { realImageId: real.id } : { modelId: model.id, seed }),
      expiresAt: new Date(now + TRIAL_TTL_MS),
      contributor: origin.contributor,
      network: origin.network,
    },
    OPEN_TRIALS_PER_VISITOR,
  );
  if (!reserved) return { ok: false, reason: 'too_many_open' };
  // Both kinds render and read a real image, so neither answers faster than the other; the real
  // one was read first, as a conditional model draws in its class.
  let png: Uint8Array | null = null;
  try {
    const sample = await renderer.render(
      model,
      seed,
      trialClass(model, real.className, randomU32()),
    );
    png = truth === 'real' ? real.png : encodePng(decodePng(sample), { level: 0 });
  } finally {
    await setTrialImage(db, trialId, png);
  }
  await sweepTrials(db, now);
  return { ok: true, trialId };
}

/** Records an answer within the tally caps; a counted one refreshes this process's scores. */
export async function answer(db: Db, trialId: string, visitorId: string, value: Truth) {
  const r = await answerTrial(db, trialId, visitorId, value, TALLY_CAPS);
  if (r.ok && r.counted) refreshScores(db);
  return r;
}

export function judgeRoutes(core: Core): Route[] {
  const { db, secret } = core;
  return [
    {
      method: 'POST',
      path: '/api/judge',
      summary:
        'Start a round of "real or generated?" → 201 `{trialId, imageUrl}`. At most 4 open trials per visitor.',
      async handle(request, _params, f) {
        const visitor = await core.admit(request, f, 'judge', 'judgePerIp', 'judgePerVisitor');
        const origin = {
          contributor: await core.addressTag(f.address),
          network: await core.addressTag(f.network),
        };
        const started = await startTrial(db, core.renderer, visitor.id, origin, newId, core.now());
        if (!started.ok && started.reason === 'too_many_open')
          throw new HttpError(
            429,
            'too_many_open',
            `answer your open trials first (at most ${OPEN_TRIALS_PER_VISITOR} at a time; each expires in ${TRIAL_TTL_MS / 60_000} minutes)`,
            { 'retry-after': '5' },
          );
        if (!started.ok)
          throw new HttpError(
            503,
            started.reason,
            started.reason === 'no_models'
              ? 'no model is published yet'
              : 'no real images are registered (ganstudio real-set, then upload --real-set)',
          );
        return json(
          { trialId: started.trialId, imageUrl: `/api/judge/${started.trialId}/image` },
          201,
        );
      },
    },
    {
      // The exact bytes of a trial, to its visitor; the same headers whatever the truth.
      method: 'GET',
      path: '/api/judge/:trialId/image',
      summary: "The trial's PNG, to the visitor who started it only.",
      async handle(request, { trialId = '' }) {
        const visitor = await visitorOfRequest(request, secret, core.secure(request));
        const trial = Id.safeParse(trialId).success ? await trialImage(db, trialId) : undefined;
        if (!trial || !trial.png || trial.expiresAt.getTime() < core.now())
          throw new HttpError(404, 'not_found', 'no such trial image');
        if (trial.visitorId !== visitor?.id)
          throw new HttpError(403, 'not_yours', 'this trial belongs to another visitor');
        return new Response(trial.png as Uint8Array<ArrayBuffer>, {
          headers: {
            'content-type': 'image/png',
            'cache-control': 'private, no-store',
            'x-content-type-options': 'nosniff',
          },
        });
      },
    },
    {
      method: 'POST',
      path: '/api/judge/:trialId',
      summary:
        'Answer a round: `{answer: real|generated}` → `{correct, truth, modelId?, modelName?, counted}`. Counted per contributor and network, within their caps.',
      async handle(request, { trialId = '' }, f) {
        core.sameSite(request);
        const visitor = await visitorOfRequest(request, secret, core.secure(request));
        if (!visitor)
          throw new HttpError(
            403,
            'no_identity',
            'answers need the visitor identity that got the trial',
          );
        await core.spend('answer', [
          ...core.perAddress('answerPerIp', f),
          core.bucket('answerPerVisitor', visitor.id),
        ]);
        const body = await readJson(request, AnswerBody);
        if (!Id.safeParse(trialId).success) throw new HttpError(404, 'not_found', 'no such trial');
        const r = await answer(db, trialId, visitor.id, body.answer);
        if (!r.ok) {
          const [status, message] = {
            not_found: [404, 'no such trial'],
            not_yours: [403, 'this trial belongs to another visitor'],
            answered: [409, 'this trial was answered already'],
            expired: [410, `this trial expired (${TRIAL_TTL_MS / 60_000} minutes to answer)`],
          }[r.reason] as [number, string];
          throw new HttpError(status, r.reason, message);
        }
        return json({
          correct: r.correct,
          truth: r.truth,
          ...(r.modelId ? { modelId: r.modelId, modelName: r.modelName } : {}),
          counted: r.counted,
        });
      },
    },
  ];
}
