import base from '@ganstudio/eslint-config/node';

export default [...base, { ignores: ['.next/**', 'next-env.d.ts', 'public/**'] }];
