'use client';
// ▲/▼ voting: one vote per visitor (signed cookie, set by the API); clicking your vote again withdraws it.
import { useState } from 'react';

export function VoteButtons({ id, score, myVote }: { id: string; score: number; myVote: number }) {
  const [state, setState] = useState({ score, vote: myVote });
  const [error, setError] = useState<string | null>(null);
  async function cast(value: 1 | -1) {
    const next = state.vote === value ? 0 : value;
    setError(null);
    const res = await fetch(`/api/images/${id}/vote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: next }),
    });
    const body = (await res.json()) as { score: number; vote: number; error?: { message: string } };
    if (!res.ok) setError(body.error?.message ?? 'vote failed');
    else setState({ score: body.score, vote: body.vote });
  }
  const button = (value: 1 | -1, label: string) => (
    <button
      type="button"
      aria-label={value === 1 ? 'upvote' : 'downvote'}
      aria-pressed={state.vote === value}
      onClick={() => cast(value)}
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
      {error && <span className="text-xs text-red-400">{error}</span>}
    </div>
  );
}
