import { expect } from 'chai';
import { replaceGrpcMethod } from '../../../src/shared/grpcInternals.js';

describe('replacing a grpc-js internal method', () => {
  it('replaces nothing, and says so, when the module, the class or the method is gone', () => {
    const never = () => {
      throw new Error('must not be called');
    };
    expect(replaceGrpcMethod('no-such-module.js', 'StreamDecoder', 'write', never)).to.equal(false);
    expect(replaceGrpcMethod('stream-decoder.js', 'NoSuchClass', 'write', never)).to.equal(false);
    expect(replaceGrpcMethod('stream-decoder.js', 'StreamDecoder', 'noSuchMethod', never)).to.equal(false);
  });
});
