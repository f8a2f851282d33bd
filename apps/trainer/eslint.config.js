import base from '@ganstudio/eslint-config/node';

export default base;
