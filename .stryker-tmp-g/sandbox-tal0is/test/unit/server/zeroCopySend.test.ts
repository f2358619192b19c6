// @ts-nocheck
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { CHUNK_HEADER_ROOM, sealChunk, WireChunk } from '../../../src/shared/chunkCodec.js';
import { installZeroCopySend } from '../../../src/server/zeroCopySend.js';

interface CallPrototype {
  serializeMessage(this: unknown, value: unknown): Buffer;
  sendMessage: (...args: unknown[]) => void;
}
const { BaseServerInterceptingCall } = createRequire(import.meta.url)('@grpc/grpc-js/build/src/server-interceptors.js') as {
  BaseServerInterceptingCall: { prototype: CallPrototype };
};
const call = { handler: { serialize: (value: { text: string }) => Buffer.from(value.text) } };

describe('zero-copy send of data chunks', () => {
  before(() => expect(installZeroCopySend(), 'installed on the grpc-js of package-lock.json').to.equal(true));

  it('hands a sealed chunk to the stream as it is, prefix included', () => {
    const frame = Buffer.alloc(CHUNK_HEADER_ROOM + 1000, 7);
    const wire = sealChunk(frame, 4096, 1000);
    const sent = BaseServerInterceptingCall.prototype.serializeMessage.call(call, wire);
    expect(sent).to.equal(wire.prefixed);
  });

  it('still frames every other message as grpc-js does, in a copy', () => {
    const sent = BaseServerInterceptingCall.prototype.serializeMessage.call(call, { text: 'abc' });
    expect([...sent]).to.deep.equal([0, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
    const unsealed = new WireChunk(Buffer.from('xyz'));
    expect([...BaseServerInterceptingCall.prototype.serializeMessage.call({ handler: { serialize: (v: WireChunk) => v.bytes } }, unsealed)]).to.deep.equal([
      0, 0, 0, 0, 3, 0x78, 0x79, 0x7a,
    ]);
  });

  it('replaces the method grpc-js sends every message through', () => {
    // If a grpc-js upgrade frames messages elsewhere, the replacement would
    // go unused and every chunk be copied again: correct, but twice the CPU.
    expect(String(BaseServerInterceptingCall.prototype.sendMessage)).to.match(/=\s*this\.serializeMessage\(message\)/);
  });
});
