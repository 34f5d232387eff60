import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/e2e/client/api.ts is generated (npm run client:generate).
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'coverage/', 'test/e2e/client/api.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // functions/ are thin adapters: they must not reach the entity layer directly.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['functions/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electrodb', message: 'Use a domain store.' }] }] },
  },
);
