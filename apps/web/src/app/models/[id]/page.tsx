// One model, for visitors: what it is, how good it is (machine and human scores), what it draws.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';

import {
  leaderboard,
  MIN_JUDGEMENTS_TO_RANK,
  MIN_NETWORKS_TO_RANK,
  NETWORK_WEIGHT_SHARE,
} from '@ganstudio/api';
import { getRun } from '@ganstudio/api/features/runs';
import { isId } from '@ganstudio/db/schema';
import { passportLine } from '@ganstudio/models/passport';

import { featureNetworkName, interval, pct, share } from '~/components/format';
import { Link } from '~/components/link';
import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ id: string }> };

async function load(id: string) {
  if (!isId(id)) return undefined;
  const { db } = await getContext();
  const row = (await leaderboard(db)).find((r) => r.modelId === id);
  if (!row) return undefined;
  const run = row.runId ? await getRun(db, row.runId) : undefined;
  return { row, run };
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const data = await load((await params).id);
  return { title: data ? data.row.name : 'Not found' };
}

export default async function ModelPage({ params }: Props) {
  const { id } = await params;
  const data = await load(id);
  if (!data) notFound();
  const { row, run } = data;
  const m = row.measurement;
  const model = run?.models.find((m) => m.id === id);
  const grid = run?.samples.filter((s) => s.epoch <= row.epoch).pop();
  return (
    <article className="grid gap-8 md:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">{row.name}</h1>
        {model?.note && <p className="text-zinc-300">{model.note}</p>}
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm" data-testid="model-card">
          <dt className="text-zinc-400">Trained for</dt>
          <dd>
            {row.epoch} {row.epoch === 1 ? 'pass' : 'passes'} over the 50,000 CIFAR-10 training
            photos
          </dd>
          <dt className="text-zinc-400">Human score</dt>
          <dd>
            {row.judgements ? (
              <>
                {pct(row.hype)} HYPE∞ ({interval(row.hypeCi95)}); {pct(row.foolRate)} of its samples
                were judged real ({interval(row.ci95)}, {row.judgements} judgements from{' '}
                {row.networks} {row.networks === 1 ? 'network' : 'networks'}; largest network&apos;s
                share {pct(row.largestShare)})
                {!row.ranked && (
                  <span className="block text-xs text-zinc-500" data-testid="not-ranked">
                    Not ranked yet: ranking needs {MIN_JUDGEMENTS_TO_RANK} judgements from{' '}
                    {MIN_NETWORKS_TO_RANK} networks, so that no one network&apos;s answers make more
                    than {pct(NETWORK_WEIGHT_SHARE)} of the score.
                  </span>
                )}
              </>
            ) : (
              <>
                No judgements yet:{' '}
                <Link href="/judge" className="underline">
                  play Real or generated?
                </Link>
              </>
            )}
          </dd>
          <dt className="text-zinc-400">FID</dt>
          <dd>
            {m
              ? `${m.fid.toFixed(2)} (${featureNetworkName(m.passport.feature_network)}, ${m.passport.samples.toLocaleString('en')} samples; lower is better)`
              : 'not measured'}
          </dd>
          <dt className="text-zinc-400">IS</dt>
          <dd>
            {m?.is_mean !== undefined
              ? `${m.is_mean.toFixed(2)} (higher is better)`
              : 'not measured'}
          </dd>
          <dt className="text-zinc-400">KID</dt>
          <dd data-testid="model-kid">
            {m?.kid !== undefined
              ? `${m.kid.toFixed(4)} ± ${m.kid_std?.toFixed(4) ?? '?'} (lower is better; unbiased, so it compares across sample counts)`
              : 'not measured'}
          </dd>
          <dt className="text-zinc-400">Precision / recall</dt>
          <dd data-testid="model-precision-recall">
            {m?.precision !== undefined
              ? `${share(m.precision)} of its samples look like real photos; it covers ${share(m.recall)} of the real photos' variety`
              : 'not measured'}
          </dd>
          <dt className="text-zinc-400">Copies</dt>
          <dd data-testid="model-copies">
            {m?.copies !== undefined
              ? `${share(m.copies)} of its samples are nearer a training photo than 99% of unseen real photos come`
              : 'not checked'}
          </dd>
          {m && (
            <>
              <dt className="text-zinc-400">Measured on</dt>
              <dd className="text-xs text-zinc-400" data-testid="model-passport">
                <code>{passportLine(m.passport)}</code>: numbers measured any other way do not
                compare with these.
              </dd>
            </>
          )}
          {row.conditional && (
            <>
              <dt className="text-zinc-400">Class fidelity</dt>
              <dd data-testid="class-fidelity">
                {m?.class_fidelity !== undefined
                  ? `${(100 * m.class_fidelity).toFixed(1)}% of its samples are called their class by the CIFAR-10 classifier (chance: ${model?.classes ? (100 / model.classes.length).toFixed(0) : '?'}%)`
                  : 'not measured'}
              </dd>
              <dt className="text-zinc-400">Classes</dt>
              <dd>{model?.classes?.join(', ')}</dd>
            </>
          )}
          <dt className="text-zinc-400">Votes</dt>
          <dd>
            {row.images
              ? `${row.images} published images, ${row.meanVote === null ? 'no votes yet' : `mean vote ${row.meanVote.toFixed(2)} from ${row.voters} voter ${row.voters === 1 ? 'network' : 'networks'}`}`
              : 'no published images yet'}
          </dd>
          {model && (
            <>
              <dt className="text-zinc-400">Download size</dt>
              <dd>{(model.sizeBytes / 1024 / 1024).toFixed(1)} MB</dd>
            </>
          )}
        </dl>
        <div className="flex flex-wrap gap-2 text-sm">
          <Link href={`/studio?model=${id}`} className="rounded bg-indigo-600 px-4 py-2 text-white">
            Sample it in your browser
          </Link>
          {run && (
            <Link href={`/runs/${run.run.id}`} className="rounded bg-zinc-800 px-4 py-2">
              How it was trained
            </Link>
          )}
        </div>
      </div>
      {grid && (
        <figure>
          <img
            src={grid.url}
            alt={`samples after ${grid.epoch} passes`}
            className="pixelated w-full rounded"
            width={274}
            height={274}
          />
          <figcaption className="mt-1 text-xs text-zinc-400">
            64 samples after {grid.epoch} {grid.epoch === 1 ? 'pass' : 'passes'}
          </figcaption>
        </figure>
      )}
    </article>
  );
}
