import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DIGEST_LOG_NAME, DigestLog, parseDigestLog } from '../../../src/server/digestLog.js';
import { tempDir } from '../../helpers/files.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const line = (version: string, sha256: string) => `${JSON.stringify({ version, sha256 })}\n`;

describe('DigestLog', () => {
  it('keeps the latest digest per version and the last `limit` versions written', () => {
    const text = line('01', A) + line('02', B) + line('01', C) + line('03', A);
    expect([...parseDigestLog(text, 10)]).to.deep.equal([
      ['02', B],
      ['01', C],
      ['03', A],
    ]);
    expect([...parseDigestLog(text, 2)]).to.deep.equal([
      ['01', C],
      ['03', A],
    ]);
  });

  it('skips a torn last line and lines that are not digests', () => {
    const text = line('01', A) + '{"version":"zz","sha256":"' + A + '"}\n' + line('02', 'short') + '[1]\nnull\n' + line('03', B).slice(0, 30);
    expect([...parseDigestLog(text, 10)]).to.deep.equal([['01', A]]);
  });

  it('compacts the file at open, so what is appended after a torn line can be read back', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'state', DIGEST_LOG_NAME);
      const first = await DigestLog.open(path.dirname(file), 10, (err) => expect.fail(err.message));
      expect(first.digests.size).to.equal(0);
      first.log.append('01', A);
      await first.log.close();
      await writeFile(file, (await readFile(file, 'utf8')) + line('02', B).slice(0, 20));

      const second = await DigestLog.open(path.dirname(file), 10, (err) => expect.fail(err.message));
      expect([...second.digests]).to.deep.equal([['01', A]]);
      second.log.append('03', C);
      await second.log.close();
      expect(await readFile(file, 'utf8')).to.equal(line('01', A) + line('03', C));
    } finally {
      await cleanup();
    }
  });
});
