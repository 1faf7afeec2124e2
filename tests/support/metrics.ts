/**
 * A sample's value in a process's /metrics text (Prometheus' text format), or undefined if it
 * printed none.
 * @param label a `name="value"` pair the sample must carry; without one, the first sample of
 *   that name is read, with or without labels
 */
export function metricValue(text: string, name: string, label?: string): number | undefined {
  const labels = label ? `\\{(?:[^}]*,)?${label}(?:,[^}]*)?\\}` : '(?:\\{[^}]*\\})?';
  const match = new RegExp(`^${name}${labels} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}
