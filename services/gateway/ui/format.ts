// Small formatting helpers shared by pages.

/** "1 h 02 min", "3 min 05 s", "12 s". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s >= 3600)
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/** "512 B", "14.2 KB", "3.1 MB". */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "12.3 s" into a recording. */
export const position = (seconds: number): string => `${seconds.toFixed(1)} s`;

export const dateTime = (iso: string): string => new Date(iso).toLocaleString();

/** "db-1:22", or "[::1]:22" for an IPv6 address, as ssh and URLs write them. */
export const address = (host: string, port: number): string =>
  `${host.includes(':') ? `[${host}]` : host}:${port}`;
