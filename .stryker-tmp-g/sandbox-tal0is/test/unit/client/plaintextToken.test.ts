// @ts-nocheck
import { expect } from 'chai';
import { plaintextTokenWarning } from '../../../src/client/connection/connect.js';

describe('plaintextTokenWarning', () => {
  it('warns when a token goes without TLS to a server off this machine', () => {
    for (const server of ['files.example:50051', '10.0.0.7:50051', 'dns:///files.example:50051', 'ipv4:127.0.0.1:1,10.1.2.3:1', '[2001:db8::1]:50051']) {
      expect(plaintextTokenWarning(server, false, 'secret'), server).to.include(`sent to ${server} without TLS`);
    }
  });

  it('stays quiet on loopback, with TLS, or without a token', () => {
    for (const server of [
      '127.0.0.1:50051',
      '127.0.0.3:1',
      'localhost:50051',
      '[::1]:50051',
      'ipv4:///127.0.0.1:1,127.0.0.2:1',
      'ipv4:127.0.0.1:50051',
      'dns://10.0.0.53/localhost:50051',
      '[::1]',
      'unix:/tmp/s.sock',
    ]) {
      expect(plaintextTokenWarning(server, false, 'secret'), server).to.equal(undefined);
    }
    expect(plaintextTokenWarning('files.example:50051', true, 'secret')).to.equal(undefined);
    expect(plaintextTokenWarning('files.example:50051', false, undefined)).to.equal(undefined);
  });
});
