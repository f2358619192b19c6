// @ts-nocheck
import { expect } from 'chai';
import { replaceGrpcMethod } from '../../../src/shared/grpcInternals.js';

describe('replacing a grpc-js internal method', () => {
  it('replaces nothing, and says so, when the module, the class or the method is gone', async () => {
    const never = () => {
      throw new Error('must not be called');
    };
    const streamDecoder = await import('@grpc/grpc-js/build/src/stream-decoder.js');
    expect(replaceGrpcMethod(undefined, 'StreamDecoder', 'write', never)).to.equal(false);
    expect(replaceGrpcMethod(streamDecoder, 'NoSuchClass', 'write', never)).to.equal(false);
    expect(replaceGrpcMethod(streamDecoder, 'StreamDecoder', 'noSuchMethod', never)).to.equal(false);
  });
});
