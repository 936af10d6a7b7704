/** The offline dependency check: the real lock file passes; each kind of risky entry is caught. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { checkLockfile } from '../../scripts/check-lockfile.ts';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

test('the project lock file passes: registry packages with sha512 integrity, install scripts only where listed', (t) => {
  t.deepEqual(checkLockfile(lock, pkg), []);
  t.true(Object.keys(lock.packages).length > 100, 'the whole tree was checked');
});

test('each risky entry is reported on its own line', (t) => {
  const packages = {
    '': {},
    'node_modules/ok': { version: '1.0.0', integrity: 'sha512-abc' },
    'node_modules/from-git': { version: '1.0.0', resolved: 'git+ssh://git@github.com/x/y.git#abc', integrity: 'sha512-abc' },
    'node_modules/weak-hash': { version: '1.0.0', integrity: 'sha1-abc' },
    'node_modules/no-hash': { version: '1.0.0' },
    'node_modules/a/node_modules/@scope/postinstall': { version: '1.0.0', integrity: 'sha512-abc', hasInstallScript: true },
    'node_modules/local': { link: true },
    'node_modules/esbuild': { version: '0.28.2', integrity: 'sha512-abc', hasInstallScript: true },
  };
  const problems = checkLockfile(
    { lockfileVersion: 3, packages },
    { dependencies: { good: '^1.2.3', repo: 'someone/repo', tarball: 'https://example.com/x.tgz' }, devDependencies: { path: 'file:../x' } },
  );
  t.deepEqual(problems, [
    'package.json dependencies.repo is not a registry version',
    'package.json dependencies.tarball is not a registry version',
    'package.json devDependencies.path is not a registry version',
    'node_modules/from-git is resolved outside the registry',
    'node_modules/weak-hash has no sha512 integrity',
    'node_modules/no-hash has no sha512 integrity',
    'node_modules/a/node_modules/@scope/postinstall runs an install script and is not in the allowed list',
    'node_modules/local is a link, not a registry package',
  ]);
  t.deepEqual(checkLockfile({ lockfileVersion: 1, packages: {} }, {}), ['lockfileVersion is 1: expected 3 (npm 9 or later)']);
});
