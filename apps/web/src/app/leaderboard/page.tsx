// Models ranked by how often people mistake their samples for real photos (HYPE∞), with the
// machine metrics beside it. A model with too few judgements is listed, not ranked.
import type { Metadata } from 'next';
import { Fragment } from 'react';

import {
  JUDGEMENTS_PER_CONTRIBUTOR,
  leaderboard,
  MIN_JUDGEMENTS_TO_RANK,
  MIN_NETWORKS_TO_RANK,
  NETWORK_WEIGHT_SHARE,
  TALLY_WINDOW,
  VOTE_PRIOR_CONTRIBUTORS,
} from '@ganstudio/api';
import { passportLine, type Passport } from '@ganstudio/models/passport';

import { featureNetworkName, interval, pct } from '~/components/format';
import { Link } from '~/components/link';
import { getContext } from '~/server/context';

export const metadata: Metadata = { title: 'Leaderboard' };
export const dynamic = 'force-dynamic';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export default async function LeaderboardPage() {
  const { db } = await getContext();
  const rows = await leaderboard(db);
  // Each distinct passport gets a letter, in order of first appearance.
  const protocols = [
    ...new Map(
      rows.flatMap(({ measurement: m }) =>
        m ? [[JSON.stringify(m.passport), m.passport] as const] : [],
      ),
    ),
  ] as [string, Passport][];
  const letterOf = (p: Passport) =>
    LETTERS[protocols.findIndex(([key]) => key === JSON.stringify(p))] ?? '?';
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold">Leaderboard</h1>
        <p className="max-w-3xl text-sm text-zinc-400">
          The human score is HYPE∞: how often people playing{' '}
          <Link href="/judge" className="underline">
            Real or generated?
          </Link>{' '}
          get it wrong, counting the model&apos;s samples and real photos equally. 50% means people
          cannot tell the model&apos;s pictures from real ones. &ldquo;Fooled&rdquo; is the share of
          the model&apos;s samples judged real, with its 95% range. FID, KID and IS are machine
          measures (lower FID and KID, higher IS are better); each carries the letter of the
          protocol it was measured with, listed under the table, and numbers with different letters
          do not compare.
        </p>
        <p className="mt-2 max-w-3xl text-sm text-zinc-400">
          Every number counts people, not clicks: each network (an IPv4 address, or an IPv6 /48)
          adds at most {JUDGEMENTS_PER_CONTRIBUTOR} judgements per model to it; the ranges come from
          resampling those networks; a model is ranked once {MIN_NETWORKS_TO_RANK} networks have
          given it {MIN_JUDGEMENTS_TO_RANK} judgements, and from then on no network weighs more than{' '}
          {pct(NETWORK_WEIGHT_SHARE)} of its score (the share shown beside its judgements); answers
          count for {(TALLY_WINDOW.periods * TALLY_WINDOW.periodS) / 86_400} days. The mean vote
          counts each voter&apos;s network once (its mean over the model&apos;s images) beside{' '}
          {VOTE_PRIOR_CONTRIBUTORS} neutral ones.
        </p>
      </header>
      <div className="overflow-x-auto">
        <table className="w-full min-w-[40rem] text-left text-sm" data-testid="leaderboard">
          <thead className="text-zinc-400">
            <tr>
              <th className="py-2 pr-3">#</th>
              <th className="pr-3">Model</th>
              <th className="pr-3">Human score (95% range)</th>
              <th className="pr-3">Fooled (95% range)</th>
              <th className="pr-3">Real photos judged fake</th>
              <th className="pr-3">Judgements (networks, largest network&apos;s share)</th>
              <th className="pr-3">FID</th>
              <th className="pr-3">KID</th>
              <th className="pr-3">IS</th>
              <th className="pr-3">Mean vote</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.modelId} className="border-t border-zinc-800" data-model={r.modelId}>
                <td className="py-2 pr-3">{r.rank ?? '—'}</td>
                <td className="pr-3">
                  <Link href={`/models/${r.modelId}`} className="underline">
                    {r.name}
                  </Link>
                  {!r.ranked && (
                    <span className="ml-2 text-xs text-zinc-500" data-testid="not-ranked">
                      not ranked yet: {r.judgements} of {MIN_JUDGEMENTS_TO_RANK} judgements from{' '}
                      {r.networks} of {MIN_NETWORKS_TO_RANK} networks
                    </span>
                  )}
                </td>
                <td className="pr-3">
                  <span className="font-medium">{pct(r.hype)}</span>{' '}
                  <span className="text-xs text-zinc-500">({interval(r.hypeCi95)})</span>
                </td>
                <td className="pr-3">
                  {pct(r.foolRate)}{' '}
                  <span className="text-xs text-zinc-500">({interval(r.ci95)})</span>
                </td>
                <td className="pr-3">{pct(r.realErrorRate)}</td>
                <td className="pr-3">
                  {r.judgements}{' '}
                  <span className="text-xs text-zinc-500" data-testid="networks">
                    ({r.networks}, {pct(r.largestShare)})
                  </span>
                </td>
                <td className="pr-3" title={r.measurement?.passport.feature_network}>
                  {r.measurement?.fid.toFixed(2) ?? '—'}{' '}
                  <span className="text-xs text-zinc-500">
                    {r.measurement
                      ? featureNetworkName(r.measurement.passport.feature_network)
                      : ''}
                  </span>{' '}
                  {r.measurement && (
                    <sup className="text-xs text-zinc-400" data-testid="protocol-letter">
                      {letterOf(r.measurement.passport)}
                    </sup>
                  )}
                </td>
                <td className="pr-3">
                  {r.measurement?.kid !== undefined ? (
                    <>
                      {r.measurement.kid.toFixed(4)}{' '}
                      <span className="text-xs text-zinc-500">
                        ± {r.measurement.kid_std?.toFixed(4)}
                      </span>
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="pr-3">{r.measurement?.is_mean?.toFixed(2) ?? '—'}</td>
                <td className="pr-3">
                  {r.meanVote !== null ? r.meanVote.toFixed(2) : '—'}{' '}
                  <span className="text-xs text-zinc-500">
                    ({r.images} images{r.voters ? `, ${r.voters} voter networks` : ''})
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {protocols.length > 0 && (
        <dl
          className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs text-zinc-400"
          data-testid="passports"
        >
          {protocols.map(([key, p], i) => (
            <Fragment key={key}>
              <dt className="font-medium text-zinc-300">{LETTERS[i]}</dt>
              <dd>
                <code>{passportLine(p)}</code>
              </dd>
            </Fragment>
          ))}
        </dl>
      )}
    </div>
  );
}
