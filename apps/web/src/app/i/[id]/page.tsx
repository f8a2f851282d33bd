// The share page of one image: big pixel-crisp view, score and vote, model and seed, and Open
// Graph / Twitter card tags pointing at a generated share image, so a pasted link unfurls.
import type { Metadata } from 'next';
import { headers } from 'next/headers';
import { notFound } from 'next/navigation';

import { shareText } from '@ganstudio/api';
import { getImage } from '@ganstudio/api/features/images';
import { getVotes } from '@ganstudio/api/features/votes';
import { isId } from '@ganstudio/db/schema';

import { Link } from '~/components/link';
import { VoteButtons } from '~/components/vote-buttons';
import { getContext } from '~/server/context';
import { pageVisitorId } from '~/server/visitor';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ id: string }> };

async function load(id: string) {
  if (!isId(id)) return undefined;
  const { db } = await getContext();
  return getImage(db, id);
}

/**
 * Absolute URLs for the card tags: PUBLIC_URL, else the request's own Host. Never a forwarded host
 * header: a client could make every unfurl of this page point at a site of its choosing.
 */
async function origin(): Promise<string> {
  const { publicUrl } = (await getContext()).settings;
  if (publicUrl) return new URL(publicUrl).origin;
  const h = await headers();
  const host = h.get('host') ?? 'localhost';
  const secure = (h.get('x-forwarded-proto') ?? '').split(',').pop()?.trim() === 'https';
  try {
    return new URL(`${secure ? 'https' : 'http'}://${host}`).origin;
  } catch {
    return 'http://localhost'; // a Host header that is no host: the tags stay well-formed
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  const image = await load(id);
  if (!image) return { title: 'Not found' };
  const base = await origin();
  const { title, description } = shareText(image);
  const og = `${base}/i/${image.id}/og.png`;
  return {
    title,
    description,
    openGraph: {
      title,
      description,
      url: `${base}/i/${image.id}`,
      type: 'website',
      images: [{ url: og, width: 1200, height: 630, alt: title }],
    },
    twitter: { card: 'summary_large_image', title, description, images: [og] },
  };
}

export default async function SharePage({ params }: Props) {
  const { id } = await params;
  const image = await load(id);
  if (!image) notFound();
  const { db, secret } = await getContext();
  const visitor = await pageVisitorId(secret);
  const myVote = visitor ? ((await getVotes(db, visitor, [image.id])).get(image.id) ?? 0) : 0;
  const className =
    image.classIndex === null ? null : (image.model.classes?.[image.classIndex] ?? null);
  const more = new URLSearchParams({ model: image.modelId, seed: String(image.seed) });
  if (className) more.set('class', className);
  return (
    <article className="grid gap-8 md:grid-cols-[auto_1fr]">
      <img
        src={image.pngUrl}
        alt={`sample${className ? ` of a ${className}` : ''}, seed ${image.seed}`}
        width={512}
        height={512}
        className="pixelated rounded-lg bg-zinc-900"
        data-testid="share-image"
      />
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">
          {className ? <span data-testid="share-class">A {className}</span> : null}
          {className ? ' · ' : ''}Seed {image.seed}
        </h1>
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          {className && (
            <>
              <dt className="text-zinc-400">Class</dt>
              <dd>{className}</dd>
            </>
          )}
          <dt className="text-zinc-400">Model</dt>
          <dd>{image.modelName}</dd>
          <dt className="text-zinc-400">Quantization</dt>
          <dd>{image.model.quantization}</dd>
          <dt className="text-zinc-400">Published</dt>
          <dd>{image.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</dd>
        </dl>
        <VoteButtons id={image.id} score={image.score} myVote={myVote} />
        <Link
          href={`/studio?${more.toString()}`}
          className="inline-block rounded bg-indigo-600 px-4 py-2 text-sm text-white"
        >
          Sample more like this
        </Link>
      </div>
    </article>
  );
}
