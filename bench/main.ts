// `npm run bench [-- --quick]`: measures Sallyport against a direct ssh2 connection in the same
// run and prints a Markdown table, the verdict on every target, and where the JSON went.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, USAGE, UsageRequested, type BenchConfig, type ScenarioName } from './config.js';
import { computeFigures } from './report/figures.js';
import { renderHeader, renderTable, renderVerdicts } from './report/table.js';
import { runBench } from './run.js';

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageRequested) {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const results = await runBench(config);
  // Figure keys start with their scenario's name ("echo_p50"); show only what was run.
  const figures = computeFigures(results).filter((f) =>
    config.scenarios.has(f.key.split('_')[0] as ScenarioName),
  );

  await mkdir(config.outDir, { recursive: true });
  const stamp = results.meta.date.replace(/[:.]/g, '-');
  const file = join(config.outDir, `bench-${config.quick ? 'quick' : 'full'}-${stamp}.json`);
  await writeFile(file, JSON.stringify({ ...results, figures }, null, 2) + '\n');

  const out = [
    '',
    renderHeader(results),
    '',
    renderTable(results, figures),
    '',
    renderVerdicts(figures),
    ...(results.errors.length > 0 ? ['', 'Failures:', ...results.errors.map((e) => `  ${e}`)] : []),
    '',
    `Raw results: ${file}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  return results.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
