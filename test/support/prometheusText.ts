/** The value of one sample of a metric in Prometheus text (unlabelled, or the one whose labels include `labels`), or null when absent. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const body = line[name.length] === '{' ? line.slice(name.length + 1, line.indexOf('}')) : '';
    const found = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}
