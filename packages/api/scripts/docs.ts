/** Writes docs/api.md from the route table (see src/reference.ts). */
import { writeFileSync } from 'node:fs';

import { apiReference } from '../src/reference';

writeFileSync(new URL('../../../docs/api.md', import.meta.url), apiReference());
process.stdout.write('wrote docs/api.md\n');
