'use client';

// tfjs (WebGL, wasm) runs in the browser only: the studio is never rendered on the server.
import dynamic from 'next/dynamic';

export const StudioLoader = dynamic(() => import('./studio/studio').then((m) => m.Studio), {
  ssr: false,
  loading: () => <p className="text-sm text-zinc-400">Loading TensorFlow.js…</p>,
});
