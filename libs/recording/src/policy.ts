import type { RecordingMode } from '@sallyport/bus';
import type { PrismaClient } from '@sallyport/db';

export interface EffectivePolicy {
  enabled: boolean;
  mode: RecordingMode;
  recordInput: boolean;
  /** The policy row that decided it ("global", "group:<name>", "server:<id>"), or null: off. */
  scope: string | null;
}

/** No policy row applies: not recorded. */
export const NOT_RECORDED: EffectivePolicy = Object.freeze({
  enabled: false,
  mode: 'best_effort',
  recordInput: false,
  scope: null,
});

export const policyScope = {
  global: 'global',
  group: (name: string) => `group:${name}`,
  server: (id: string) => `server:${id}`,
} as const;

/** Whether sessions on `server` are recorded: its own policy, else its group's, else global. */
export async function resolveRecordingPolicy(
  prisma: PrismaClient,
  server: { id: string; group: string | null },
): Promise<EffectivePolicy> {
  const scopes = [
    policyScope.server(server.id),
    ...(server.group ? [policyScope.group(server.group)] : []),
    policyScope.global,
  ];
  const rows = await prisma.recordingPolicy.findMany({ where: { scope: { in: scopes } } });
  for (const scope of scopes) {
    const row = rows.find((r) => r.scope === scope);
    if (row)
      return {
        enabled: row.enabled,
        mode: row.mode === 'strict' ? 'strict' : 'best_effort',
        recordInput: row.recordInput,
        scope,
      };
  }
  return NOT_RECORDED;
}
