import { expect } from 'chai';
import { Metadata, status } from '@grpc/grpc-js';
import { methodIsMissing } from '../../../src/client/connection/missingMethod.js';
import { RemoteStatusError } from '../../../src/client/errors.js';

// What grpc-js rejects a call with: an Error carrying the status code.
const callError = (code: status) => Object.assign(new Error(`${code}`), { code, details: '', metadata: new Metadata() });

describe('whether a failed call means an older server without the method', () => {
  it('is so for UNIMPLEMENTED before any message, from grpc-js or as a ClientError', () => {
    expect(methodIsMissing(callError(status.UNIMPLEMENTED), false, false)).to.equal(true);
    expect(methodIsMissing(new RemoteStatusError(status.UNIMPLEMENTED, 'no such method'), false, false)).to.equal(true);
  });

  it('is not once a message came: the method exists, and the other one would send that again', () => {
    expect(methodIsMissing(callError(status.UNIMPLEMENTED), true, false)).to.equal(false);
  });

  it('is not for a call we aborted, nor for any other code or error', () => {
    expect(methodIsMissing(callError(status.UNIMPLEMENTED), false, true)).to.equal(false);
    expect(methodIsMissing(callError(status.UNAVAILABLE), false, false)).to.equal(false);
    expect(methodIsMissing(callError(status.INTERNAL), false, false)).to.equal(false);
    expect(methodIsMissing(new Error('socket hang up'), false, false)).to.equal(false);
    expect(methodIsMissing(undefined, false, false)).to.equal(false);
  });
});
