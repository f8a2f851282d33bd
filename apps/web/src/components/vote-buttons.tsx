'use client';

// ▲/▼ voting: one vote per visitor (signed cookie, set by the API); clicking your vote again withdraws it.
import { useState } from 'react';

import { postJson } from './api-client';

export function VoteButtons({ id, score, myVote }: { id: string; score: number; myVote: number }) {
  const [state, setState] = useState({ score, vote: myVote });
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  async function cast(value: 1 | -1) {
    const next = state.vote === value ? 0 : value;
    setError(null);
    setPending(true);
    const { res, data } = await postJson<{ score: number; vote: number }>(
      `/api/images/${id}/vote`,
      { value: next },
    ).finally(() => setPending(false));
    if (!res.ok) setError(data.error?.message ?? 'vote failed');
    else setState({ score: data.score, vote: data.vote });
  }
  const button = (value: 1 | -1, label: string) => (
    <button
      type="button"
      aria-label={value === 1 ? 'upvote' : 'downvote'}
      aria-pressed={state.vote === value}
      disabled={pending}
      onClick={() => void cast(value)}
      className={`rounded px-2 py-0.5 text-sm ${state.vote === value ? 'bg-indigo-600 text-white' : 'bg-zinc-800 text-zinc-300 hover:bg-zinc-700'}`}
    >
      {label}
    </button>
  );
  return (
    <div className="flex items-center gap-2">
      {button(1, '▲')}
      <span data-testid="score" className="min-w-6 text-center tabular-nums">
        {state.score}
      </span>
      {button(-1, '▼')}
      {pending && <span className="text-xs text-zinc-500">counting…</span>}
      {error && <span className="text-xs text-red-400">{error}</span>}
    </div>
  );
}
