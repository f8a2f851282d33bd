/**
 * `ganstudio upload`: a run folder into a gallery (its grids, curves and generator). "Publish"
 * is the gallery's word for putting one image on the wall; a run is uploaded.
 */
import { join } from 'node:path';

import { UserError } from '../errors';
import { defineCommand, num, userPath } from './flags';
import { UsageError, weightsFlag } from './shared';

export const uploadCommand = defineCommand({
  summary: "upload a run's grids, curves and quantized generator into a gallery",
  about: `Uploads samples/epoch-*.png and generator-uint8/ to the gallery's blob store and registers the
run (config, grids, metric series) and the model in its database, through the same packages the
gallery uses. The gallery is named by --data-dir (or GANSTUDIO_DATA_DIR): its embedded database
and local blobs, e.g. apps/web/.data (\`npm run upload\` from the repository root defaults to it).
With DATABASE_URL and BLOB_READ_WRITE_TOKEN set, it is Postgres and Vercel Blob instead. Stop a
local gallery first: PGlite is single-process.`,
  positionals: {
    usage: '<run folder>',
    min: 0,
    max: 1,
    error: 'upload takes one run folder (or --real-set DIR)',
  },
  flags: {
    'data-dir': {
      kind: 'path',
      metavar: 'DIR',
      defaultText: '$GANSTUDIO_DATA_DIR',
      help: "the gallery's local data folder",
    },
    name: { kind: 'text', help: 'display name of the run and model' },
    default: { kind: 'bool', help: "make this the gallery's default model" },
    note: { kind: 'text', help: 'a line shown with the model' },
    epochs: {
      kind: 'text',
      metavar: 'LIST',
      help: "also register kept epochs (all, or e.g. 1,3,5) as models of the run: each\nepoch's generator quantized to uint8, so the judge game scores epochs",
    },
    weights: weightsFlag('which weights --epochs registers'),
    'real-set': {
      kind: 'path',
      metavar: 'DIR',
      help: 'register a set of real images for the judge game (ganstudio real-set); with\nit the run folder is optional',
    },
  },
  async run(v, positionals) {
    if (positionals.length === 0 && !v['real-set'])
      throw new UsageError('upload takes one run folder (or --real-set DIR)');
    const epochs =
      v.epochs === undefined
        ? undefined
        : v.epochs === 'all'
          ? ('all' as const)
          : v.epochs.split(',').map((e) => num('epochs', e.trim(), { integer: true, min: 1 }));
    const dir = positionals[0] === undefined ? undefined : userPath(positionals[0]);
    // The gallery's own settings, read and checked as the gallery reads them.
    const { gallerySettings, SettingsError } = await import('@ganstudio/api/settings');
    let settings;
    try {
      // eslint-disable-next-line no-restricted-properties -- the one read, handed whole to gallerySettings
      settings = gallerySettings(process.env, 'cli');
    } catch (err) {
      throw err instanceof SettingsError ? new UserError(err.message) : err;
    }
    const { databaseUrl: url, blobToken: token } = settings;
    const dataDir = v['data-dir'] ?? (settings.dataDir ? userPath(settings.dataDir) : undefined);
    if (!dataDir && !(url && token))
      throw new UsageError(
        "upload needs a gallery: --data-dir DIR (a local gallery's folder, e.g. apps/web/.data), GANSTUDIO_DATA_DIR, or DATABASE_URL with BLOB_READ_WRITE_TOKEN",
      );
    const { openDb } = await import('@ganstudio/db/client');
    const { createLocalStore } = await import('@ganstudio/storage/local');
    const { createVercelStore } = await import('@ganstudio/storage/vercel');
    const { PublishError, publishEpochModels, publishRealSet, publishRun } =
      await import('@ganstudio/api/features/publish');
    const { readRealSet, RunFolder } = await import('@ganstudio/runs/folder');
    const handle = await openDb({ url, dataDir: join(dataDir ?? '', 'db') });
    try {
      const store = token
        ? createVercelStore(token)
        : createLocalStore(join(dataDir ?? '', 'blobs'));
      const log = (l: string) => process.stderr.write(l + '\n');
      /** A folder publishing refuses (no export, a wrong real set): one line naming it. */
      const named = async <T>(folder: string, work: () => Promise<T>): Promise<T> => {
        try {
          return await work();
        } catch (err) {
          throw err instanceof PublishError ? new UserError(`${folder}: ${err.message}`) : err;
        }
      };
      const realSet = v['real-set'];
      if (realSet) {
        const r = await named(realSet, () => publishRealSet(handle.db, readRealSet(realSet)));
        log(
          `${r.inserted ? 'registered' : 'already registered:'} real set ${r.id} (${r.count} images)`,
        );
      }
      if (dir) {
        const run = new RunFolder(dir);
        const publication = run.readPublication();
        const result = await named(dir, () =>
          publishRun(handle.db, store, publication, {
            ...(v.name ? { name: v.name } : {}),
            ...(v.note ? { note: v.note } : {}),
            isDefault: v.default,
            log,
          }),
        );
        if (epochs)
          await publishEpochModels(
            handle.db,
            store,
            publication,
            run.readEpochGenerators(epochs, v.weights),
            { ...(v.name ? { name: v.name } : {}), log },
          );
        log(
          `uploaded run ${result.runId} and model ${result.model.id} to ${url ? 'Postgres' : dataDir} + ${store.kind}`,
        );
      }
    } finally {
      await handle.close();
    }
    return 0;
  },
});
