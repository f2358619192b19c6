// @ts-nocheck
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, tempDir } from '../../helpers/files.js';
import { startServerProcess } from '../../helpers/processes.js';
import { rawClient } from '../../helpers/rawClient.js';

async function rssOf(pid: number): Promise<number> {
  const statusText = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(statusText)![1]) * 1024;
}

describe('grpc-server: a slow reader', function () {
  this.timeout(60_000);

  it('holds a few chunks of server memory however long the reader stalls, then finishes intact', async () => {
    const { dir, cleanup } = await tempDir();
    const size = 128 * MiB;
    await writeFile(path.join(dir, 'big.bin'), '');
    await truncate(path.join(dir, 'big.bin'), size);
    const server = await startServerProcess(dir);
    const client = rawClient(server.address);
    try {
      const before = await rssOf(server.process.pid!);
      const call = client.download({ name: 'big.bin', offset: 0 });
      const hash = createHash('sha256');
      let received = 0;
      call.on('data', (message: { data: Buffer }) => {
        hash.update(message.data);
        received += message.data.length;
      });
      // Stop reading after the first data message, as a stuck consumer would.
      await new Promise<void>((resolve) => {
        const stall = (message: { data: Buffer }) => {
          if (message.data.length === 0) return;
          call.pause();
          call.off('data', stall);
          resolve();
        };
        call.on('data', stall);
      });
      let peak = before;
      for (let sample = 0; sample < 20; sample += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        peak = Math.max(peak, await rssOf(server.process.pid!));
      }
      expect(received).to.be.below(size / 4, 'the reader was paused, so most of the file must still be unsent');
      expect(peak - before).to.be.below(48 * MiB, `server RSS grew by ${((peak - before) / MiB).toFixed(1)} MiB while the reader stalled`);

      const ended = once(call, 'end');
      call.resume();
      await ended;
      expect(received).to.equal(size);
      expect(hash.digest('hex')).to.equal(createHash('sha256').update(Buffer.alloc(size)).digest('hex'));
    } finally {
      client.close();
      await server.kill('SIGTERM');
      await cleanup();
    }
  });
});
