import base from '@ganstudio/eslint-config/base';

export default base;
