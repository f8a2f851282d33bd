import base from '@ganstudio/eslint-config/base';

// assembly/ is AssemblyScript (v128, @inline), compiled by asc, not TypeScript.
export default [...base, { ignores: ['assembly/**'] }];
