import cliProgress from 'cli-progress';
import { formatBytes } from './parseUnits.js';
import type { DownloadProgress } from './transfer.js';

/** Window over which the shown rate is averaged. */
const RATE_WINDOW_MS = 3000;

/**
 * A progress bar with rate and ETA for one file at a time, on stderr. The
 * CLI creates it only for a TTY; scripts and pipes get no control codes.
 */
export class ProgressBar {
  private readonly bar = new cliProgress.SingleBar(
    {
      format: '{name} |{bar}| {percentage}% {done}/{size} {rate} ETA {eta_formatted}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  private active = false;
  private samples: { at: number; received: number }[] = [];

  update(progress: DownloadProgress): void {
    const now = Date.now();
    this.samples.push({ at: now, received: progress.received });
    while (this.samples.length > 2 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const rate = now > first.at ? ((progress.received - first.received) * 1000) / (now - first.at) : 0;
    const payload = { name: progress.name, done: formatBytes(progress.received), size: formatBytes(progress.size), rate: `${formatBytes(rate)}/s` };
    if (!this.active) {
      this.bar.start(progress.size, progress.received, payload);
      this.active = true;
    } else {
      this.bar.update(progress.received, payload);
    }
  }

  /** Clears the bar so the next line printed starts clean. */
  stop(): void {
    if (this.active) this.bar.stop();
    this.active = false;
    this.samples = [];
  }
}
