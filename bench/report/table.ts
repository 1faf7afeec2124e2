// The run's figures as a Markdown table (stdout, and pasted into docs/performance.md), followed
// by the verdict on every target.
import { CONTENDER_LABELS, type ContenderKey } from '../env/deployments.js';
import { fmt } from '../measure/stats.js';
import type { RawResults } from '../results.js';
import type { Cell, Figure } from './figures.js';

const COLUMNS: ContenderKey[] = ['direct', 'distributed', 'embedded'];

function cellText(figure: Figure, key: ContenderKey): string {
  const cell = figure.cells[key];
  if (!cell) return key === 'distributed' && figure.note ? figure.note : '—';
  const spread = cell.n > 1 ? ` [${fmt(cell.min)}–${fmt(cell.max)}]` : '';
  return `${fmt(cell.value)}${spread}${ratio(figure, cell, key)}`;
}

/** "×1.9" next to a Sallyport value: its ratio to the direct baseline. */
function ratio(figure: Figure, cell: Cell, key: ContenderKey): string {
  const base = figure.cells.direct?.value;
  if (key === 'direct' || base === undefined || base === 0) return '';
  return ` (×${fmt(cell.value / base)})`;
}

export function renderTable(results: RawResults, figures: Figure[]): string {
  const columns = COLUMNS.filter(
    (c) => figures.some((f) => f.cells[c]) || results.meta.config.contenders.includes(c),
  );
  const header = [
    'figure',
    ...columns.map((c) => CONTENDER_LABELS[c]),
    'target (distributed)',
    'verdict',
  ];
  const rows = figures.map((f) => [
    `${f.label} (${f.unit})`,
    ...columns.map((c) => cellText(f, c)),
    f.target ?? '',
    f.verdict ? f.verdict.status : '',
  ]);
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export function renderVerdicts(figures: Figure[]): string {
  return figures
    .filter((f) => f.verdict)
    .map((f) => {
      const v = f.verdict!;
      const mark = v.status === 'met' ? 'MET   ' : v.status === 'missed' ? 'MISSED' : 'n/m   ';
      return `${mark} ${f.label} (${f.target ?? ''}): ${v.detail}`;
    })
    .join('\n');
}

export function renderHeader(results: RawResults): string {
  const m = results.meta;
  return [
    `Sallyport benchmark, ${m.date} — ${m.machine.cpus} cores (${m.machine.model}), ${m.machine.memoryGB} GB, Linux ${m.machine.kernel}`,
    `${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; commit ${m.git.commit.slice(0, 10)}${m.git.dirty ? ' (dirty)' : ''}`,
    `${m.config.quick ? 'quick run' : 'full run'}: ${m.config.rounds} interleaved rounds; acks ${m.acks}; load average ${m.loadAverage.start.toFixed(2)} → ${m.loadAverage.end.toFixed(2)}; ${Math.round(m.durationSeconds)} s`,
    `Cells: median [min–max] (×ratio to direct). Echo and connect pool every sample; the others take one value per run (bulk: ${m.config.bulkRunsPerRound} per round).`,
    busyNote(results),
  ].join('\n');
}

/** Says how many measurements began while other processes kept the machine busy. */
function busyNote(results: RawResults): string {
  const busy = results.machine.filter((m) => m.busy > 0.15);
  if (busy.length === 0) return 'The machine was quiet (≤ 15% busy) before every measurement.';
  const worst = Math.max(...busy.map((m) => m.busy));
  return `WARNING: ${busy.length} of ${results.machine.length} measurements began with the machine busy with other work (up to ${Math.round(worst * 100)}%); their figures are noisier.`;
}
