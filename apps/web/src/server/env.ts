/**
 * The one place the web app reads its environment (a lint rule keeps `process.env` out of the
 * rest): the gallery's settings, validated by @ganstudio/api's gallerySettings, and what the
 * `npm start` entry (server.mjs) tells the app about itself. Documented in .env.example.
 */
import 'server-only';

import { join } from 'node:path';

import { gallerySettings, type GallerySettings } from '@ganstudio/api';

/**
 * The header server.mjs writes the connection's address into (overwriting a client's); unset
 * under any other entry, where no header can be trusted for it.
 */
// eslint-disable-next-line no-restricted-properties -- server.mjs's marker, not a user setting
export const peerHeader: string | undefined = process.env['GANSTUDIO_PEER_HEADER'] || undefined;

/** Read at server start (instrumentation.ts), so a bad variable is one line there, not a 500 later. */
export const readSettings = (): GallerySettings =>
  // eslint-disable-next-line no-restricted-properties -- the one read, handed whole to gallerySettings
  gallerySettings(process.env, 'next', {
    defaultDataDir: join(process.cwd(), '.data'),
    connectionAddress: peerHeader !== undefined,
  });
