// One training run: per-epoch sample grids (same latent every epoch) and loss / quality curves.
import { notFound } from 'next/navigation';

import { humanScore, humanScores, type HumanScore } from '@ganstudio/api';
import { getRun, runCurve } from '@ganstudio/api/features/runs';
import { isId } from '@ganstudio/db/schema';
import { passportLine } from '@ganstudio/models/passport';

import { share } from '~/components/format';
import { LineChart } from '~/components/line-chart';
import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { db } = await getContext();
  const data = isId(id) ? await getRun(db, id) : undefined;
  if (!data) notFound();
  const { run, samples, metrics, models } = data;
  /** The points of one metric where it was logged. */
  const points = (
    key: 'd_loss' | 'g_loss' | 'fid' | 'is_mean' | 'class_fidelity' | 'precision' | 'recall',
    x: 'step' | 'epoch',
  ) =>
    metrics.flatMap((m) => {
      const y = m[key];
      return y === null ? [] : [{ x: m[x], y }];
    });
  const series = (key: 'd_loss' | 'g_loss' | 'fid') => points(key, 'step');
  const fid = points('fid', 'epoch');
  const isScores = points('is_mean', 'epoch');
  // As a percentage: the share of samples the CIFAR-10 classifier calls the class they were drawn in.
  const fidelity = points('class_fidelity', 'epoch').map((p) => ({ ...p, y: 100 * p.y }));
  // KID with its ± 1 std band; precision and recall as percentages.
  const kid = metrics.flatMap((m) =>
    m.kid === null
      ? []
      : [{ x: m.epoch, y: m.kid, lo: m.kid - (m.kid_std ?? 0), hi: m.kid + (m.kid_std ?? 0) }],
  );
  const percent = (key: 'precision' | 'recall') =>
    points(key, 'epoch').map((p) => ({ ...p, y: 100 * p.y }));
  const curve = runCurve(run);
  const passport = curve?.passport;
  const { floor, ceiling } = curve ?? {};
  const last = metrics.filter((m) => m.fid !== null).at(-1);
  const network = passport?.feature_network.startsWith('cifar10-classifier')
    ? 'CIFAR-10 classifier'
    : 'Inception-v3';
  // Epochs published as models (upload --epochs) get a human score each, from the judge game.
  const scores = models.length > 1 ? await humanScores(db) : new Map<string, HumanScore>();
  const human = models
    .map((m) => ({ epoch: m.epoch, score: scores.get(m.id) ?? humanScore(m.id) }))
    .filter((h) => h.score.judgements > 0)
    .sort((a, b) => a.epoch - b.epoch);
  return (
    <div className="space-y-8">
      <header>
        <h1 className="text-2xl font-semibold">{run.name}</h1>
        <p className="text-sm text-zinc-400">
          {run.status} · {run.epochs} epochs · {run.backend} · {run.imagesPerSec?.toFixed(1) ?? '—'}{' '}
          images/s
          {models[0]
            ? ` · model ${models[0].quantization}, ${(models[0].sizeBytes / 1024 / 1024).toFixed(1)} MB`
            : ''}
        </p>
      </header>
      <section>
        <h2 className="mb-2 font-medium">Losses</h2>
        <LineChart
          xLabel="step"
          series={[
            { name: 'D loss', color: '#f472b6', points: series('d_loss') },
            { name: 'G loss', color: '#60a5fa', points: series('g_loss') },
          ]}
        />
      </section>
      {fid.length > 0 && (
        <section>
          <h2 className="mb-2 font-medium">Quality by epoch</h2>
          <p className="mb-2 text-xs text-zinc-400" data-testid="run-passport">
            FID ({network} features, lower is better) and IS ({network}, higher is better)
            {passport && ['ema', 'raw'].includes(passport.weights)
              ? `, of the ${passport.weights === 'ema' ? 'EMA-averaged' : 'raw'} generator weights`
              : ''}
            . Measured on{' '}
            <code>{passport ? passportLine(passport) : 'an unrecorded protocol'}</code>. Numbers
            measured any other way do not compare with these.
          </p>
          <LineChart
            xLabel="epoch"
            series={[{ name: 'FID', color: '#34d399', points: fid }]}
            rules={floor ? [{ label: 'real images', y: floor.fid, color: '#a1a1aa' }] : []}
          />
          {kid.length > 0 && (
            <div data-testid="kid-chart">
              <p className="mt-2 text-xs text-zinc-400">
                KID (Bińkowski et al. 2018, lower is better): unbiased, so it compares across sample
                counts; the band is ± one standard deviation over 100 subsets. Epochs whose bands
                overlap are not told apart by this measurement.
              </p>
              <LineChart
                xLabel="epoch"
                series={[{ name: 'KID', color: '#2dd4bf', points: kid }]}
                rules={floor ? [{ label: 'real images', y: floor.kid, color: '#a1a1aa' }] : []}
              />
            </div>
          )}
          {kid.length > 0 && (
            <div data-testid="precision-recall-chart">
              <p className="mt-2 text-xs text-zinc-400">
                Precision and recall (Kynkäänniemi et al. 2019, k = 3, %): the share of samples on
                the real images&apos; manifold (quality) and of real images on the samples&apos;
                (variety). Low precision is blur or artefacts; low recall is collapse.
              </p>
              <LineChart
                xLabel="epoch"
                series={[
                  { name: 'precision %', color: '#f472b6', points: percent('precision') },
                  { name: 'recall %', color: '#60a5fa', points: percent('recall') },
                ]}
                rules={
                  floor
                    ? [
                        { label: 'real precision', y: 100 * floor.precision, color: '#f9a8d4' },
                        { label: 'real recall', y: 100 * floor.recall, color: '#93c5fd' },
                      ]
                    : []
                }
              />
            </div>
          )}
          {floor && ceiling && (
            <table className="mt-3 text-xs" data-testid="run-scale">
              <caption className="mb-1 text-left text-zinc-400">
                The scale, on the same passport: real test images score what a perfect generator
                would at this sample count; uniform noise, what no generator should.
              </caption>
              <thead className="text-zinc-400">
                <tr>
                  <th className="pr-4 text-left"></th>
                  <th className="pr-4 text-right">FID</th>
                  <th className="pr-4 text-right">KID</th>
                  <th className="pr-4 text-right">precision</th>
                  <th className="pr-4 text-right">recall</th>
                </tr>
              </thead>
              <tbody>
                {(
                  [
                    ['real test images (floor)', floor],
                    ['this run, last point', last],
                    ['uniform noise (ceiling)', ceiling],
                  ] as const
                ).map(([label, v]) =>
                  v ? (
                    <tr key={label}>
                      <td className="pr-4">{label}</td>
                      <td className="pr-4 text-right">{v.fid?.toFixed(2) ?? '—'}</td>
                      <td className="pr-4 text-right">{v.kid?.toFixed(4) ?? '—'}</td>
                      <td className="pr-4 text-right">{share(v.precision)}</td>
                      <td className="pr-4 text-right">{share(v.recall)}</td>
                    </tr>
                  ) : null,
                )}
              </tbody>
            </table>
          )}
          {isScores.length > 0 && (
            <LineChart
              xLabel="epoch"
              series={[{ name: 'IS', color: '#fbbf24', points: isScores }]}
            />
          )}
          {fidelity.length > 0 && (
            <div data-testid="class-fidelity-chart">
              <p className="mt-2 text-xs text-zinc-400">
                Class fidelity (%): the share of each epoch&apos;s samples the CIFAR-10 classifier
                calls the class they were drawn in; chance is one class in ten.
              </p>
              <LineChart
                xLabel="epoch"
                series={[{ name: 'class fidelity %', color: '#60a5fa', points: fidelity }]}
              />
            </div>
          )}
        </section>
      )}
      {models.length > 1 && (
        <section data-testid="human-by-epoch">
          <h2 className="mb-2 font-medium">Human score by epoch</h2>
          <p className="mb-2 text-xs text-zinc-400">
            From{' '}
            <a href="/judge" className="underline">
              Real or generated?
            </a>
            : the share of each epoch&apos;s samples people judged real, and HYPE∞ (errors on real
            and generated images together; 50% = indistinguishable). {models.length} epochs of this
            run are published as models; {human.length} have judgements.
          </p>
          <LineChart
            xLabel="epoch"
            series={[
              {
                name: 'judged real (%)',
                color: '#a78bfa',
                points: human.map((h) => ({ x: h.epoch, y: 100 * (h.score.foolRate ?? NaN) })),
              },
              {
                name: 'HYPE∞ (%)',
                color: '#f472b6',
                points: human.map((h) => ({ x: h.epoch, y: 100 * (h.score.hype ?? NaN) })),
              },
            ]}
          />
        </section>
      )}
      <section>
        <h2 className="mb-2 font-medium">Samples by epoch</h2>
        <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {samples.map((s) => (
            <li key={s.epoch}>
              <img
                src={s.url}
                alt={`epoch ${s.epoch} samples`}
                className="pixelated w-full rounded"
                width={274}
                height={274}
              />
              <p className="mt-1 text-xs text-zinc-400">epoch {s.epoch}</p>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
