/**
 * `npm run check:deps`: an offline check of package-lock.json, for where `npm audit` cannot run
 * (a registry that answers it 405, no network). It cannot know about vulnerabilities; it checks
 * that every dependency comes from the registry with a sha512 integrity that `npm ci` verifies,
 * that none runs an install script except the ones listed here with their reason, and that
 * package.json asks only for registry versions.
 */
import { readFileSync } from 'node:fs';

/** Packages allowed to run install scripts, and why. */
export const INSTALL_SCRIPTS_ALLOWED: Readonly<Record<string, string>> = {
  esbuild: 'checks that its platform binary (an optional dependency from the registry) is installed',
  node: 'the Node 24 runtime for npm scripts: links the binary shipped inside the package',
};

const REGISTRY = 'https://registry.npmjs.org/';
/** Version specs that do not come from the registry: git, GitHub shorthands, URLs, local paths. */
const NON_REGISTRY_SPEC = /^(?:git\+|git:|github:|gitlab:|bitbucket:|https?:|file:|link:|[^@/\s]+\/[^@/\s]+$)/;

interface LockPackage {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly hasInstallScript?: boolean;
}

interface Lockfile {
  readonly lockfileVersion?: number;
  readonly packages?: Readonly<Record<string, LockPackage>>;
}

interface PackageJson {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/** The package name of a lock entry's path (`node_modules/a/node_modules/@s/b` gives `@s/b`). */
function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Every problem found, one line each; empty when the lock file passes. */
export function checkLockfile(lock: Lockfile, pkg: PackageJson): string[] {
  const problems: string[] = [];
  if (lock.lockfileVersion !== 3) problems.push(`lockfileVersion is ${lock.lockfileVersion}: expected 3 (npm 9 or later)`);
  for (const [field, specs] of [
    ['dependencies', pkg.dependencies],
    ['devDependencies', pkg.devDependencies],
  ] as const) {
    for (const [name, spec] of Object.entries(specs ?? {})) {
      if (NON_REGISTRY_SPEC.test(spec)) problems.push(`package.json ${field}.${name} is not a registry version`);
    }
  }
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '') continue;
    const name = nameOf(path);
    if (entry.link) {
      problems.push(`${path} is a link, not a registry package`);
      continue;
    }
    if (entry.resolved !== undefined && !entry.resolved.startsWith(REGISTRY)) problems.push(`${path} is resolved outside the registry`);
    if (!entry.integrity?.startsWith('sha512-')) problems.push(`${path} has no sha512 integrity`);
    if (entry.hasInstallScript && !(name in INSTALL_SCRIPTS_ALLOWED)) problems.push(`${path} runs an install script and is not in the allowed list`);
  }
  return problems;
}

if (import.meta.main) {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lockfile;
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;
  const problems = checkLockfile(lock, pkg);
  const count = Object.keys(lock.packages ?? {}).length - 1;
  if (problems.length > 0) {
    for (const problem of problems) console.error(`check:deps: ${problem}`);
    process.exitCode = 1;
  } else {
    console.log(
      `check:deps: ${count} locked packages, all from the registry with sha512 integrity; ` +
        `install scripts only in ${Object.keys(INSTALL_SCRIPTS_ALLOWED).join(', ')}`,
    );
  }
}
