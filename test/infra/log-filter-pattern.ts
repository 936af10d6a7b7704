/**
 * CloudWatch Logs JSON filter patterns, the subset the monitoring module uses, evaluated against
 * a parsed log line: `{ $.a = "text" && $.b = * && $.n >= 0 }`, terms joined by `&&` or `||`
 * (no parentheses), string values quoted (a `*` inside is a wildcard), numbers bare, `*` alone for
 * "the field is there". Anything outside the subset throws, so a pattern this cannot read fails
 * its test instead of passing unread. Semantics follow the CloudWatch Logs filter pattern syntax.
 */

type Op = '=' | '!=' | '>' | '<' | '>=' | '<=';
interface Term {
  readonly path: ReadonlyArray<string | number>;
  readonly op: Op;
  readonly value: { kind: 'any' } | { kind: 'string'; text: string } | { kind: 'number'; number: number };
}

const TERM = /^\$((?:\.[A-Za-z_][\w-]*|\[\d+\])+)\s*(=|!=|>=|<=|>|<)\s*(\*|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)$/;

function parseTerm(text: string): Term {
  const match = TERM.exec(text.trim());
  if (!match) throw new Error(`filter term outside the supported subset: ${text.trim()}`);
  const path = [...match[1]!.matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
  const raw = match[3]!;
  const op = match[2] as Op;
  if (raw === '*') {
    if (op !== '=' && op !== '!=') throw new Error(`* needs = or !=: ${text.trim()}`);
    return { path, op, value: { kind: 'any' } };
  }
  if (raw.startsWith('"')) {
    if (op !== '=' && op !== '!=') throw new Error(`a string needs = or !=: ${text.trim()}`);
    return { path, op, value: { kind: 'string', text: JSON.parse(raw) as string } };
  }
  return { path, op, value: { kind: 'number', number: Number(raw) } };
}

/** The parsed pattern: an OR of ANDs of terms. */
export function parseFilterPattern(pattern: string): Term[][] {
  const body = /^\{(.*)\}$/s.exec(pattern.trim());
  if (!body) throw new Error(`not a JSON filter pattern: ${pattern}`);
  if (/[()]/.test(body[1]!.replace(/"(?:[^"\\]|\\.)*"/g, ''))) throw new Error(`parentheses are outside the supported subset: ${pattern}`);
  return body[1]!.split('||').map((any) => any.split('&&').map(parseTerm));
}

function select(line: unknown, path: Term['path']): unknown {
  let value = line;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function wildcard(text: string): RegExp {
  return new RegExp(
    `^${text
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function holds(term: Term, line: unknown): boolean {
  const field = select(line, term.path);
  if (field === undefined || field === null || typeof field === 'object') return false;
  const { value, op } = term;
  let equal: boolean;
  if (value.kind === 'any') equal = true;
  else if (value.kind === 'string') equal = typeof field === 'string' && wildcard(value.text).test(field);
  else {
    if (typeof field !== 'number') return false;
    const n = value.number;
    if (op === '>') return field > n;
    if (op === '<') return field < n;
    if (op === '>=') return field >= n;
    if (op === '<=') return field <= n;
    equal = field === n;
  }
  return op === '!=' ? !equal : equal;
}

/** Whether CloudWatch Logs would count this JSON line for the pattern. */
export function matchesFilterPattern(pattern: string, line: unknown): boolean {
  return parseFilterPattern(pattern).some((all) => all.every((term) => holds(term, line)));
}

/** The value a `$.a.b` selector (metric value or dimension) takes from a line. */
export function selectField(selector: string, line: unknown): unknown {
  const match = /^\$((?:\.[A-Za-z_][\w-]*|\[\d+\])+)$/.exec(selector);
  if (!match) throw new Error(`not a field selector: ${selector}`);
  return select(
    line,
    [...match[1]!.matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2]))),
  );
}
