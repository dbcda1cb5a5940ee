import { config } from '@hooklane/eslint-config';

// Shared tests and scripts belong to no workspace's tsconfig; they are typed by tsconfig.tools.json.
export default [
  ...config,
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.tools.json' } },
  },
];
