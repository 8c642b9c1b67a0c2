// ESLint here guards the architecture, not the style: module boundaries between projects (the layers
// of tools/layers.cjs), no import cycles (between projects and between files), and package.json
// files that declare exactly what their sources import. Formatting is Prettier's (npm run format:check).
//
// Run it through Nx (`npm run lint`, or `npm test`, which runs it first): the Nx rules read the
// project graph that Nx computes before running the lint targets; a bare `eslint` after a change
// sees a stale graph.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nx from '@nx/eslint-plugin';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import jsoncParser from 'jsonc-eslint-parser';
import tseslint from 'typescript-eslint';
import layers from './tools/layers.cjs';

const workspaceRoot = path.dirname(fileURLToPath(import.meta.url));
const projectRoots = ['libs', 'apps', 'tools'].flatMap((dir) =>
  fs
    .readdirSync(path.join(workspaceRoot, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(workspaceRoot, dir, e.name, 'package.json')))
    .map((e) => `${dir}/${e.name}`),
);
const testFiles = ['**/*.spec.ts', '**/*.test.ts', 'test/**/*.ts', 'src/**/test-*.ts', 'vitest.config.ts'];

const tsExtensions = ['.ts', '.tsx', '.mts', '.cts'];
const jsExtensions = ['.js', '.mjs', '.cjs'];

export default [
  {
    ignores: ['**/node_modules/', '**/dist/', '**/bench-results/', '**/data/', '**/coverage/', '**/.nx/'],
  },
  {
    // Sources carry a few disable comments for rules of other setups; not this config's business.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
    },
    plugins: { '@nx': nx, 'import-x': importX },
    settings: {
      'import-x/extensions': [...tsExtensions, ...jsExtensions],
      'import-x/parsers': { '@typescript-eslint/parser': [...tsExtensions, ...jsExtensions] },
      'import-x/external-module-folders': ['node_modules'],
      // One lint run parses each module once (the default lifetime, 30 s, re-parses them in a long run).
      'import-x/cache': { lifetime: Infinity },
      'import-x/resolver-next': [
        // NodeNext resolution as tsc does it: `./x.js` is `./x.ts` on disk; workspace packages through
        // their package.json "exports" (which name the .ts sources).
        createNodeResolver({
          extensions: [...tsExtensions, ...jsExtensions, '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'], '.cjs': ['.cts', '.cjs'] },
          conditionNames: ['types', 'import', 'node', 'default'],
        }),
      ],
    },
    rules: {
      // Project level: the layering (depConstraints) and no cycle between projects.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          depConstraints: layers.depConstraints,
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: false,
          banTransitiveDependencies: false,
          // apps/cli's end-to-end tests start the server with apps/server's test helpers (apps may use
          // anything; only the relative path breaks the rule). To go once apps/server exports it.
          allow: ['../../server/test/server-process.js', '../../server/test/tls-fixtures.js'],
        },
      ],
      // File level: no cycle between modules (type-only imports are erased, so they do not count).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // Test files and configs import what their project's package.json or the root's declares (dependencies
  // or devDependencies): @nx/dependency-checks above leaves them out. An endpoint's tests may open the
  // store their engine runs on (its sources may not).
  ...projectRoots.map((root) => ({
    files: testFiles.map((glob) => `${root}/${glob}`),
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          depConstraints: layers.testDepConstraints,
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: false,
          banTransitiveDependencies: false,
          allow: ['../../server/test/server-process.js', '../../server/test/tls-fixtures.js'],
        },
      ],
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [path.join(workspaceRoot, root), workspaceRoot], devDependencies: true, optionalDependencies: false, peerDependencies: false },
      ],
    },
  })),
  {
    files: ['**/package.json'],
    languageOptions: { parser: jsoncParser },
    plugins: { '@nx': nx },
    rules: {
      // "dependencies" lists exactly the packages (workspace or npm) that the project's non-test
      // sources import, at the installed version. Test files and configs (*.spec.ts, *.test.ts,
      // test/, src/**/test-*.ts helpers, the vitest config) are left out: what they use comes from
      // devDependencies, the project's or the root's (checked by no-extraneous-dependencies above).
      '@nx/dependency-checks': [
        'error',
        {
          buildTargets: ['typecheck'],
          checkMissingDependencies: true,
          checkObsoleteDependencies: true,
          checkVersionMismatches: true,
          ignoredFiles: [
            '{projectRoot}/**/*.spec.ts',
            '{projectRoot}/**/*.test.ts',
            '{projectRoot}/test/**/*',
            '{projectRoot}/src/**/test-*.ts',
            '{projectRoot}/vitest.config.ts',
            '{projectRoot}/tsconfig.json',
          ],
        },
      ],
    },
  },
];
