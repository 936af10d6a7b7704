/**
 * `npm run lint` (part of `npm test`): the import boundaries that keep the architecture visible.
 * The machines and the wire contract are pure and know no adapter; what ships (src/) imports no
 * test or development code; the development tools import no test code. Imports are read with
 * TypeScript's own scanner (static, re-exports and `import()`), relative ones resolved to a path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import ts from 'typescript';

export interface Boundary {
  /** The folder whose files the rule covers (repository-relative, ending in `/`). */
  readonly from: string;
  /** Folders its files may import from; absent: any folder not in `forbid`. */
  readonly allow?: readonly string[];
  /** Folders its files must not import from. */
  readonly forbid?: readonly string[];
  /** Packages its files may import; absent: any package. */
  readonly packages?: readonly string[];
  readonly why: string;
}

export const BOUNDARIES: readonly Boundary[] = [
  {
    from: 'machines/',
    allow: ['machines/', 'src/contract/'],
    packages: ['xstate'],
    why: 'the machines are pure: I/O reaches them as injected actors, never as an adapter',
  },
  {
    from: 'src/contract/',
    allow: ['src/contract/'],
    packages: ['runtypes', 'node:net'],
    why: 'the wire contract is shared by the agent and the processor and knows no transport or storage',
  },
  { from: 'src/', forbid: ['test/', 'scripts/'], why: 'what ships imports no test or development code' },
  { from: 'scripts/', forbid: ['test/'], why: 'the development tools import no test code' },
];

/** The folders whose files are checked. */
const ROOTS = ['machines', 'src', 'scripts', 'test'];

/** The package an import names (`@scope/name/sub` gives `@scope/name`), or undefined for a relative import. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every import of `source` (a file at repository-relative `file`) that crosses a boundary, one line each. */
export function checkFile(file: string, source: string, boundaries: readonly Boundary[] = BOUNDARIES): string[] {
  const rules = boundaries.filter((b) => file.startsWith(b.from));
  if (rules.length === 0) return [];
  const problems: string[] = [];
  for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
    const pkg = packageOf(specifier);
    const target = pkg === undefined ? posix.normalize(posix.join(posix.dirname(file), specifier)) : undefined;
    for (const rule of rules) {
      const crosses =
        target === undefined
          ? rule.packages !== undefined && !rule.packages.includes(pkg!)
          : (rule.allow !== undefined && !rule.allow.some((folder) => target.startsWith(folder))) ||
            (rule.forbid?.some((folder) => target.startsWith(folder)) ?? false);
      if (crosses) problems.push(`${file} imports '${specifier}': ${describe(rule)} (${rule.why})`);
    }
  }
  return problems;
}

function describe(rule: Boundary): string {
  if (rule.forbid !== undefined) return `${rule.from} imports nothing from ${rule.forbid.join(' or ')}`;
  return `${rule.from} imports only from ${[...(rule.allow ?? []), ...(rule.packages ?? [])].join(', ')}`;
}

function* typescriptFiles(root: string, folder: string): Generator<string> {
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    const path = posix.join(folder, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') yield* typescriptFiles(root, path);
    else if (entry.isFile() && entry.name.endsWith('.ts')) yield path;
  }
}

/** Checks every TypeScript file under the checked folders of `root`; returns the problems and how many files were read. */
export function checkTree(root: string, boundaries: readonly Boundary[] = BOUNDARIES): { problems: string[]; files: number } {
  const problems: string[] = [];
  let files = 0;
  for (const folder of ROOTS) {
    for (const file of typescriptFiles(root, folder)) {
      files += 1;
      problems.push(...checkFile(file, readFileSync(join(root, file), 'utf8'), boundaries));
    }
  }
  return { problems, files };
}

if (import.meta.main) {
  const root = relative(process.cwd(), join(dirname(import.meta.filename), '..')) || '.';
  const { problems, files } = checkTree(root);
  for (const problem of problems) console.error(`check:boundaries: ${problem}`);
  if (problems.length > 0) process.exitCode = 1;
  else console.log(`check:boundaries: ${files} files, no import crosses a boundary`);
}
