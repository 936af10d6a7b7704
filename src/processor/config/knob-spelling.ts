/**
 * Variables in the environment that look like a knob but are not read: a misspelling
 * (BATCHSIZE, BATCH_SIZ, WRITE_CONCURENCY) or a knob earlier versions read that is now a
 * constant. Unknown variables are otherwise ignored, so without this line a typo would
 * silently leave the default in place. Pure: main.ts logs the line.
 */

/** Upper case, letters and digits only: BatchSize, BATCH-SIZE and BATCHSIZE are one name. */
function normalised(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** Edit distance with transpositions (optimal string alignment), stopping early past `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      current.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length];
}

/** Typos allowed for a name of this length: one for short names, two from eight characters on. */
function allowance(name: string): number {
  return name.length >= 8 ? 2 : 1;
}

/** The name `variable` most likely means, if it is close enough to one of `names`. */
function closest(variable: string, names: readonly string[]): string | undefined {
  const key = normalised(variable);
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const target = normalised(name);
    const distance = key === target ? 0 : editDistance(key, target, allowance(target));
    if (distance <= allowance(target) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

export interface KnobSuspects {
  /** Variables close to a knob that is read: [variable, the knob it likely means]. */
  readonly misspelt: ReadonlyArray<readonly [string, string]>;
  /** Variables naming (or close to) a knob that is now a constant. */
  readonly removed: ReadonlyArray<readonly [string, string]>;
}

/** Sorts the environment's unread variables that look like knobs into misspellings and removed knobs. */
export function knobSuspects(env: Readonly<Record<string, string | undefined>>, read: readonly string[], removed: readonly string[]): KnobSuspects {
  const readSet = new Set(read);
  const misspelt: Array<[string, string]> = [];
  const gone: Array<[string, string]> = [];
  for (const variable of Object.keys(env).sort()) {
    // AWS_* belong to the SDK, a family (AWS_ENDPOINT_URL_SNS, _S3, …) close to the ones read here.
    if (readSet.has(variable) || variable.startsWith('AWS_')) continue;
    const knob = closest(variable, read);
    const constant = closest(variable, removed);
    if (constant && (!knob || removed.includes(variable))) gone.push([variable, constant]);
    else if (knob) misspelt.push([variable, knob]);
  }
  return { misspelt, removed: gone };
}

/** One line naming every suspect, or undefined when there is none. */
export function knobWarning(suspects: KnobSuspects): string | undefined {
  const parts: string[] = [];
  if (suspects.misspelt.length > 0) {
    parts.push(`not read, misspelt? ${suspects.misspelt.map(([variable, knob]) => `${variable} (did you mean ${knob}?)`).join(', ')}`);
  }
  if (suspects.removed.length > 0) {
    const names = suspects.removed.map(([variable, knob]) => (variable === knob ? variable : `${variable} (${knob})`));
    parts.push(`no longer read, now a constant (src/processor/config/tuning.ts): ${names.join(', ')}`);
  }
  return parts.length > 0 ? `environment variables ignored: ${parts.join('; ')}` : undefined;
}
