/**
 * The registry of visit types: the one place that says which types exist,
 * what they are also called, which extra field each carries and where it is stored.
 * Adding a visit type is one entry here; a type with a new field is listed in docs/design.md.
 */
/** The fields a visit type may carry besides `type`, `created_at` and `visit_id`: each type carries one. */
export const EXTRA_FIELDS = ['ip', 'url'] as const;
export type ExtraField = (typeof EXTRA_FIELDS)[number];

export interface VisitTypeDefinition {
  /** Canonical name, written on the wire by current agents. */
  readonly name: string;
  /** Other names accepted on the wire and normalised to `name`. */
  readonly aliases: readonly string[];
  /** The optional field this type carries besides `type` and `created_at`. */
  readonly extraField: ExtraField;
  /** Table (MySQL) or column family (Cassandra) the visits are written to. */
  readonly table: string;
}

export const VISIT_TYPES = [
  { name: 'type-in', aliases: ['direct'], extraField: 'ip', table: 'traffic_type_in' },
  { name: 'referrer', aliases: [], extraField: 'url', table: 'traffic_referrer' },
] as const satisfies readonly VisitTypeDefinition[];

export type VisitTypeName = (typeof VISIT_TYPES)[number]['name'];

const byWireName = new Map<string, VisitTypeDefinition>();
for (const definition of VISIT_TYPES) {
  byWireName.set(definition.name, definition);
  for (const alias of definition.aliases) byWireName.set(alias, definition);
}

/** The definition for a wire name or alias (`direct` gives `type-in`), or undefined. */
export function resolveVisitType(wireName: string): VisitTypeDefinition | undefined {
  return byWireName.get(wireName);
}

/** The definition of a canonical type name; throws for a name not in the registry. */
export function visitType(name: VisitTypeName): VisitTypeDefinition {
  const definition = byWireName.get(name);
  if (!definition || definition.name !== name) throw new Error(`unknown visit type ${name}`);
  return definition;
}

/** Every name accepted on the wire, canonical names first. */
export const ACCEPTED_TYPE_NAMES: readonly string[] = [...VISIT_TYPES.map((t) => t.name), ...VISIT_TYPES.flatMap((t) => t.aliases)];
