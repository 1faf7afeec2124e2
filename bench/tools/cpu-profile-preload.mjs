// Preloaded into the Sallyport processes by `npm run bench -- --cpu-prof DIR` (Node 20 refuses
// --cpu-prof in NODE_OPTIONS, but allows --import): samples the whole process with V8's CPU
// profiler and writes DIR/CPU.<time>.<pid>.0.0.cpuprofile when the process exits, in the
// format --cpu-prof writes, for bench/tools/profile-summary.ts or Chrome DevTools.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // A same-thread inspector session answers synchronously, so this completes before exit.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
      const file = join(dir, `CPU.${stamp}.${process.pid}.0.0.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
