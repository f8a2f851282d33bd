/**
 * The share page of one image on the edge (`/i/:id`): the Next.js gallery renders its own; the
 * Deno server answers the same URL with a small HTML page, so links it hands out work and unfurl
 * (Open Graph and Twitter card tags pointing at the stored share card). No script: the page shows
 * the image, its score and a link into the gallery's studio.
 */
import { shareText } from '@ganstudio/api';
import { getImage } from '@ganstudio/api/features/images';
import type { Db } from '@ganstudio/db/client';
import { isId } from '@ganstudio/db/schema';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export async function sharePage(db: Db, id: string, origin: string): Promise<Response> {
  const image = isId(id) ? await getImage(db, id) : undefined;
  if (!image)
    return new Response('not found', {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  const text = shareText(image);
  const [title, description] = [escapeHtml(text.title), escapeHtml(text.description)];
  const png = escapeHtml(new URL(image.pngUrl, origin).toString());
  const card = `${origin}/i/${image.id}/og.png`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta property="og:title" content="${title}"><meta property="og:description" content="${description}">
<meta property="og:url" content="${origin}/i/${image.id}"><meta property="og:type" content="website">
<meta property="og:image" content="${card}"><meta property="og:image:width" content="1200"><meta property="og:image:height" content="630">
<meta name="twitter:card" content="summary_large_image"><meta name="twitter:image" content="${card}">
<style>body{background:#09090b;color:#f4f4f5;font:16px system-ui;margin:2rem}img{image-rendering:pixelated;width:min(512px,90vw);height:auto}</style>
</head><body><h1>${title}</h1><img src="${png}" alt="sample, seed ${image.seed}" width="512" height="512" data-testid="share-image">
<p>Score <span data-testid="score">${image.score}</span></p></body></html>`;
  return new Response(html, {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    },
  });
}
