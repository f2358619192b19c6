// @ts-nocheck
import { expect } from 'chai';
import type { Chunk__Output } from '../../../src/generated/filetransfer/v1/Chunk.js';
import { ProtocolError } from '../../../src/client/errors.js';
import { firstMessageFile, listedFileOf, remoteFileOf } from '../../../src/client/remoteFile.js';

const info = { name: 'a.bin', size: '1024', version: 'v1', sha256: 'ab'.repeat(32), mtimeMs: '1700000000000' };
const message = (fields: Partial<Chunk__Output>) => ({ info: null, data: Buffer.alloc(0), offset: '0', sha256: '', error: null, ...fields }) as Chunk__Output;

describe('what the server says of a file', () => {
  it("takes a stream's file from its first message, and refuses a first message without one", () => {
    expect(firstMessageFile('a.bin', message({ info: info as Chunk__Output['info'] }))).to.deep.include({ name: 'a.bin', size: 1024, version: 'v1' });
    expect(() => firstMessageFile('a.bin', message({ data: Buffer.from('x') })))
      .to.throw(ProtocolError)
      .with.property('message')
      .that.includes('the first message carries no file info');
  });

  it('refuses impossible sizes and malformed digests before anything is written', () => {
    expect(() => listedFileOf({ ...info, size: '-1' } as never)).to.throw(ProtocolError, 'impossible size');
    expect(() => listedFileOf({ ...info, size: String(2 ** 60) } as never)).to.throw(ProtocolError, 'impossible size');
    expect(() => remoteFileOf({ ...info, sha256: 'xyz' } as never)).to.throw(ProtocolError, 'malformed sha256');
    expect(remoteFileOf({ ...info, sha256: '' } as never).sha256, 'none yet').to.equal('');
  });
});
