/** Preset for Node-only workspaces (the trainer CLI, scripts): base rules plus Node globals. */
import globals from 'globals';

import base from './base.js';

export default [...base, { languageOptions: { globals: { ...globals.node } } }];
