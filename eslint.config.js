import { config } from '@hooklane/eslint-config';

// Shared tests and scripts belong to no workspace's tsconfig; they are typed by tsconfig.tools.json.
export default [
  ...config,
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.tools.json' } },
  },
  {
    // The dashboard's browser tests are typed by their own tsconfig, not the page's.
    files: ['apps/dashboard/test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './apps/dashboard/tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
  },
];
