'use client';

// "Real or generated?": one 32×32 image at a time, large and pixel-crisp; R / G (or the buttons)
// answer, feedback says whether you were right and, for a generated image, which model made it.
// The next trial is requested and its image preloaded while you look at this one, so "next" is
// instant. The truth comes from the server only after the answer.
import { useCallback, useEffect, useRef, useState } from 'react';

import { postJson } from './api-client';

interface Trial {
  trialId: string;
  imageUrl: string;
}
interface Verdict {
  correct: boolean;
  truth: 'real' | 'generated';
  modelId?: string;
  modelName?: string;
  /** False once this network has given its share of answers on this model (or on photos). */
  counted: boolean;
}

async function fetchTrial(): Promise<Trial> {
  const { res, data } = await postJson<Trial>('/api/judge', {});
  if (!res.ok) throw new Error(data.error?.message ?? `could not start a round (${res.status})`);
  // Preload: the image is in the browser's memory before it is shown.
  await new Promise<void>((resolve) => {
    const img = new Image();
    img.onload = img.onerror = () => resolve();
    img.src = data.imageUrl;
  });
  return data;
}

export function JudgeGame() {
  const [trial, setTrial] = useState<Trial | null>(null);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [tally, setTally] = useState({ right: 0, total: 0 });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = useRef<Promise<Trial> | null>(null);

  const advance = useCallback(async () => {
    setError(null);
    setVerdict(null);
    try {
      const t = await (next.current ?? fetchTrial());
      next.current = null;
      setTrial(t);
    } catch (err) {
      next.current = null;
      setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    void advance();
  }, [advance]);

  const answer = useCallback(
    async (choice: 'real' | 'generated') => {
      if (!trial || verdict || busy) return;
      setBusy(true);
      next.current = fetchTrial(); // the next round loads while this one is answered
      next.current.catch(() => undefined);
      const { res, data } = await postJson<Verdict>(`/api/judge/${trial.trialId}`, {
        answer: choice,
      });
      setBusy(false);
      if (!res.ok) {
        setError(data.error?.message ?? 'answer not recorded');
        return;
      }
      setVerdict(data);
      setTally((t) => ({ right: t.right + (data.correct ? 1 : 0), total: t.total + 1 }));
    },
    [trial, verdict, busy],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const k = e.key.toLowerCase();
      if (k === 'r') void answer('real');
      else if (k === 'g') void answer('generated');
      else if ((k === 'n' || k === 'enter' || k === ' ') && verdict) {
        e.preventDefault();
        void advance();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [answer, advance, verdict]);

  const button = 'min-w-32 rounded-lg px-5 py-3 text-base font-medium disabled:opacity-40';
  return (
    <div className="mx-auto flex max-w-md flex-col items-center gap-5">
      <p data-testid="tally" className="text-sm text-zinc-400">
        {tally.total ? `You got ${tally.right} of ${tally.total} right` : 'No answers yet'}
      </p>
      <div className="relative aspect-square w-full max-w-[25rem] overflow-hidden rounded-lg bg-zinc-900">
        {trial && (
          <img
            src={trial.imageUrl}
            alt="a 32×32 image: real or generated?"
            data-testid="judge-image"
            className="pixelated h-full w-full"
            width={400}
            height={400}
          />
        )}
      </div>
      {verdict ? (
        <div className="flex flex-col items-center gap-3 text-center" data-testid="verdict">
          <p
            className={`text-lg font-semibold ${verdict.correct ? 'text-emerald-400' : 'text-rose-400'}`}
          >
            {verdict.correct ? 'Right' : 'Wrong'}: it was{' '}
            {verdict.truth === 'real' ? 'a real CIFAR-10 photo' : 'generated'}
          </p>
          {verdict.truth === 'generated' && verdict.modelName && (
            <p className="text-sm text-zinc-400">
              Made by{' '}
              <a className="underline" href={`/models/${verdict.modelId}`}>
                {verdict.modelName}
              </a>
            </p>
          )}
          {!verdict.counted && (
            <p className="max-w-xs text-xs text-zinc-500" data-testid="not-counted">
              Thanks: your network has given this {verdict.truth === 'real' ? 'photo set' : 'model'}{' '}
              its share of answers, so this one is not added to the scores. Play on for fun.
            </p>
          )}
          <button
            type="button"
            onClick={() => void advance()}
            className={`${button} bg-zinc-100 text-zinc-900`}
          >
            Next (N)
          </button>
        </div>
      ) : (
        <div className="flex flex-wrap justify-center gap-3">
          <button
            type="button"
            disabled={!trial || busy}
            onClick={() => void answer('real')}
            className={`${button} bg-emerald-700 text-white`}
          >
            Real (R)
          </button>
          <button
            type="button"
            disabled={!trial || busy}
            onClick={() => void answer('generated')}
            className={`${button} bg-indigo-700 text-white`}
          >
            Generated (G)
          </button>
        </div>
      )}
      {error && <p className="text-sm text-rose-400">{error}</p>}
    </div>
  );
}
