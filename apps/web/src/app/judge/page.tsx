// "Real or generated?": the game behind every model's human score (HYPE∞).
import type { Metadata } from 'next';

import { JudgeGame } from '~/components/judge-game';
import { Link } from '~/components/link';

export const metadata: Metadata = { title: 'Real or generated?' };
export const dynamic = 'force-dynamic';

export default function JudgePage() {
  return (
    <div className="space-y-6">
      <header className="mx-auto max-w-xl text-center">
        <h1 className="text-2xl font-semibold">Real or generated?</h1>
        <p className="mt-1 text-sm text-zinc-400">
          Half of these tiny pictures are real photos from the CIFAR-10 dataset, half were made by
          one of the gallery&apos;s generators. Take your time. Your answers become each
          model&apos;s human score on the{' '}
          <Link href="/leaderboard" className="underline">
            leaderboard
          </Link>
          .
        </p>
      </header>
      <JudgeGame />
    </div>
  );
}
