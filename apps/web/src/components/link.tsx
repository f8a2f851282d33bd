import NextLink from 'next/link';
import type { ComponentProps } from 'react';

/**
 * The gallery's one link. Next prefetches every link in view, but every page here renders per
 * request (its scripts carry that request's CSP nonce), so there is no static prefetch to fetch:
 * each prefetch was a live server render (page, database reads) that the client cancelled once it
 * had the route tree, then a second one for the page's metadata, also cancelled. One view of `/`
 * cost ~30 renders nobody saw and never reached network idle. A click fetches the page it opens,
 * once: the work a visitor uses.
 */
export function Link(props: Omit<ComponentProps<typeof NextLink>, 'prefetch'>) {
  return <NextLink {...props} prefetch={false} />;
}
