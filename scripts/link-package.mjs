// Links this repository as `node_modules/sessionkit` into the folders whose apps import it by name
// and are typechecked with the library (the migration snippets, each a small app with its own
// package.json, so the package's self-reference does not reach them), as a workspace link would.
// `npm run typecheck` runs it first; the tests make the same links when they build those apps.
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
for (const folder of ['test/migration/snippets']) {
  const modules = join(repoRoot, folder, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const link = join(modules, 'sessionkit');
  if (!existsSync(link)) symlinkSync(relative(modules, repoRoot), link, 'dir');
}
