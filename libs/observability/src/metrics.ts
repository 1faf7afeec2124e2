import { Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };

/**
 * A registry with the process defaults (CPU, memory, event loop lag, GC). One per process: in
 * embedded mode every service registers its own metrics on the same registry.
 */
export function createRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
