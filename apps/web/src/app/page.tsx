// The public gallery: newest or top-voted, paginated by cursor, each image pixel-crisp with its score.
import { imagePage } from '@ganstudio/api';
import { listModels } from '@ganstudio/api/features/models';

import { Link } from '~/components/link';
import { VoteButtons } from '~/components/vote-buttons';
import { getContext } from '~/server/context';
import { pageVisitorId } from '~/server/visitor';

export const dynamic = 'force-dynamic';

export default async function Gallery({
  searchParams,
}: {
  searchParams: Promise<{ sort?: string; cursor?: string }>;
}) {
  const params = await searchParams;
  const sort = params.sort === 'top' ? ('top' as const) : ('new' as const);
  const { db, secret } = await getContext();
  const visitorId = await pageVisitorId(secret);
  // The same page, in the same JSON, as GET /api/images gives this visitor.
  const list = (cursor: string | null) => imagePage(db, { sort, cursor, limit: 24, visitorId });
  let page;
  try {
    page = await list(params.cursor ?? null);
  } catch {
    page = await list(null); // a stale or hand-edited cursor: start over
  }
  const [model] = await listModels(db);
  return (
    <div className="space-y-6">
      <section className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Gallery</h1>
          <p className="text-sm text-zinc-400">
            Samples from a DCGAN trained on CIFAR-10, rendered in visitors&apos; browsers and
            published here.
            {model?.note ? ` ${model.note}` : ''}
            {model && (
              <>
                {' '}
                <Link href={`/models/${model.id}`} className="text-indigo-400 underline">
                  About this model
                </Link>
              </>
            )}
          </p>
        </div>
        <div className="flex gap-2 text-sm">
          {(['new', 'top'] as const).map((s) => (
            <Link
              key={s}
              href={`/?sort=${s}`}
              className={`rounded px-3 py-1 ${s === sort ? 'bg-zinc-100 text-zinc-900' : 'bg-zinc-800 text-zinc-300'}`}
            >
              {s === 'new' ? 'Newest' : 'Top voted'}
            </Link>
          ))}
          <Link href="/studio" className="rounded bg-indigo-600 px-3 py-1 text-white">
            Make one
          </Link>
        </div>
      </section>
      {page.items.length === 0 ? (
        <p className="rounded border border-dashed border-zinc-700 p-8 text-center text-zinc-400">
          Nothing published yet.{' '}
          <Link href="/studio" className="text-indigo-400 underline">
            Sample the generator in the studio
          </Link>{' '}
          and publish the first image.
        </p>
      ) : (
        <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 md:grid-cols-4 lg:grid-cols-6">
          {page.items.map((image) => (
            <li key={image.id} className="rounded-lg bg-zinc-900 p-2">
              <Link href={`/i/${image.id}`}>
                <img
                  src={image.url}
                  alt={`sample${image.className ? ` of a ${image.className}` : ''}, seed ${image.seed}`}
                  width={160}
                  height={160}
                  className="pixelated aspect-square w-full rounded"
                />
              </Link>
              <div className="mt-2 flex items-center justify-between">
                <VoteButtons id={image.id} score={image.score} myVote={image.myVote ?? 0} />
                <span className="text-xs text-zinc-500">
                  {image.className ? `${image.className} · ` : ''}#{image.seed}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
      {page.nextCursor && (
        <div className="text-center">
          <Link
            href={`/?sort=${sort}&cursor=${encodeURIComponent(page.nextCursor)}`}
            className="rounded bg-zinc-800 px-4 py-2 text-sm"
          >
            Older →
          </Link>
        </div>
      )}
    </div>
  );
}
