import { StudioLoader as Studio } from '~/components/studio-loader';
import { BACKENDS } from '~/components/studio/backends';

export const metadata = { title: 'Studio' };

export default async function StudioPage({
  searchParams,
}: {
  searchParams: Promise<{ model?: string; seed?: string; class?: string; backend?: string }>;
}) {
  const { model, seed, class: cls, backend } = await searchParams;
  const n = Number(seed);
  const only = BACKENDS.find((b) => b === backend);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Studio</h1>
      <Studio
        {...(model ? { initialModel: model } : {})}
        {...(seed && Number.isInteger(n) && n >= 0 ? { initialSeed: n } : {})}
        {...(cls ? { initialClass: cls.slice(0, 64) } : {})}
        {...(only ? { backendChoice: only } : {})}
      />
    </div>
  );
}
