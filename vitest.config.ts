import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Apollo's packages are CommonJS and require graphql's CommonJS build, while Vite would hand
    // our ESM sources graphql's .mjs build: two realms, and "Cannot use GraphQLSchema from another
    // module or realm". Pointing bare `graphql` at the CommonJS entry keeps one instance, as in Node.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Bounds to give up at, never speed targets: on the shared 2-core machine under load a stack's
    // start or a test's real servers can take minutes. Speed belongs in `npm run bench`.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Real servers, TLS and databases per file: two files at a time suit a 2-core machine.
    maxWorkers: 2,
  },
});
