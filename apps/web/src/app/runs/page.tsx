import { listRuns } from '@ganstudio/api/features/runs';

import { Link } from '~/components/link';
import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Training runs' };

export default async function Runs() {
  const { db } = await getContext();
  const runs = await listRuns(db);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Training runs</h1>
      {runs.length === 0 ? (
        <p className="text-zinc-400">No runs published yet.</p>
      ) : (
        <form action="/runs/compare" className="space-y-3">
          <table className="w-full text-left text-sm">
            <thead className="text-zinc-400">
              <tr>
                <th className="py-2 pr-2">
                  <span className="sr-only">compare</span>
                </th>
                <th className="py-2">Run</th>
                <th>Status</th>
                <th>Backend</th>
                <th>Epochs</th>
                <th>Images/s</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} className="border-t border-zinc-800">
                  <td className="py-2 pr-2">
                    <input
                      type="checkbox"
                      name="id"
                      value={r.id}
                      aria-label={`compare ${r.name}`}
                    />
                  </td>
                  <td className="py-2">
                    <Link href={`/runs/${r.id}`} className="text-indigo-400 underline">
                      {r.name}
                    </Link>
                  </td>
                  <td>{r.status}</td>
                  <td>{r.backend}</td>
                  <td>{r.epochs}</td>
                  <td>{r.imagesPerSec?.toFixed(1) ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {runs.length > 1 && (
            <button type="submit" className="rounded bg-zinc-800 px-3 py-1 text-sm">
              Compare selected runs
            </button>
          )}
        </form>
      )}
    </div>
  );
}
