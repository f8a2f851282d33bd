export { default } from '@ganstudio/vitest-config';
