import type { Metadata } from 'next';
import { headers } from 'next/headers';

import { Link } from '~/components/link';
import { VisitorBeacon } from '~/components/visitor-beacon';

import './globals.css';

export const metadata: Metadata = {
  title: { default: 'GAN Studio', template: '%s · GAN Studio' },
  description: 'A DCGAN trained on CIFAR-10 in TypeScript, sampled in your browser.',
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request: its scripts carry this request's CSP nonce (src/proxy.ts).
  await headers();
  return (
    <html lang="en">
      <body className="min-h-screen bg-zinc-950 text-zinc-100 antialiased">
        <header className="border-b border-zinc-800">
          <nav className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-1 px-4 py-3 text-sm">
            <Link href="/" className="font-semibold tracking-tight text-white">
              GAN Studio
            </Link>
            <Link href="/" className="text-zinc-400 hover:text-white">
              Gallery
            </Link>
            <Link href="/studio" className="text-zinc-400 hover:text-white">
              Studio
            </Link>
            <Link href="/judge" className="text-zinc-400 hover:text-white">
              Real or fake?
            </Link>
            <Link href="/leaderboard" className="text-zinc-400 hover:text-white">
              Leaderboard
            </Link>
            <Link href="/runs" className="text-zinc-400 hover:text-white">
              Runs
            </Link>
          </nav>
        </header>
        <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
        <VisitorBeacon />
      </body>
    </html>
  );
}
