// @ts-nocheck
import { expect } from 'chai';
import { channelTarget, parseServer } from '../../../src/client/connection/serverTarget.js';

describe('parseServer (--server)', () => {
  it('adds port 50051 where it is left out, not the 443 grpc-js would dial', () => {
    expect(parseServer('localhost')).to.equal('localhost:50051');
    expect(parseServer('files.example.com')).to.equal('files.example.com:50051');
    expect(parseServer('[::1]')).to.equal('[::1]:50051');
    expect(parseServer('dns:///files.example.com')).to.equal('dns:///files.example.com:50051');
    expect(parseServer('ipv4:127.0.0.1,127.0.0.2:6000')).to.equal('ipv4:127.0.0.1:50051,127.0.0.2:6000');
  });

  it('keeps host:port, [v6]:port and gRPC targets as given', () => {
    for (const target of [
      '127.0.0.1:50051',
      'files.example.com:1',
      '[::1]:65535',
      'dns:///localhost:7000',
      'dns://8.8.8.8/files.example.com:7000',
      'ipv4:127.0.0.1:50051,127.0.0.2:50051',
      'ipv6:[::1]:50051',
      'unix:/run/grpc.sock',
      'unix:///run/grpc.sock',
    ]) {
      expect(parseServer(target), target).to.equal(target);
    }
    expect(parseServer('ipv6:::1')).to.equal('ipv6:[::1]:50051');
    expect(parseServer('  127.0.0.1:50051 ')).to.equal('127.0.0.1:50051');
  });

  it('refuses a URL, naming the host:port to give instead', () => {
    expect(() => parseServer('http://127.0.0.1:50051')).to.throw(RangeError, /^Give host:port, not a URL, e\.g\. 127\.0\.0\.1:50051$/);
    expect(() => parseServer('grpcs://files.example.com/')).to.throw(RangeError, /not a URL, e\.g\. files\.example\.com:50051$/);
  });

  it('finds a URL by its scheme at the very start, and names the host whatever user came before it', () => {
    expect(() => parseServer('http://')).to.throw(RangeError, /^Give host:port, not a URL$/);
    expect(() => parseServer('https://someone@files.example.com:6000/x')).to.throw(RangeError, /^Give host:port, not a URL, e\.g\. files\.example\.com:6000$/);
    // Schemes that merely contain a gRPC one are URLs all the same.
    for (const url of ['xdns://files.example.com', 'dnsx://files.example.com', 'unixy://files.example.com']) {
      expect(() => parseServer(url), url).to.throw(RangeError, /^Give host:port, not a URL, e\.g\. files\.example\.com:50051$/);
    }
    // `://` further on is part of a socket path, not a URL.
    expect(parseServer('unix:/tmp/odd://name')).to.equal('unix:/tmp/odd://name');
  });

  it('takes a gRPC scheme only at the start: a host whose name ends in one is a host', () => {
    expect(parseServer('mydns:6000')).to.equal('mydns:6000');
    expect(parseServer('files-ipv4:6000')).to.equal('files-ipv4:6000');
  });

  it('takes dns: with or without an authority, and says what to give when it names no host', () => {
    expect(parseServer('dns:files.example.com')).to.equal('dns:files.example.com:50051');
    expect(() => parseServer('dns:///')).to.throw(RangeError, /^Give dns:\/\/\/host:port$/);
  });

  it('says which address family an ipv4: or ipv6: list wants, with an example of it', () => {
    expect(() => parseServer('ipv4:')).to.throw(RangeError, /^Give ipv4:127\.0\.0\.1:50051\[,\.\.\.\]$/);
    expect(() => parseServer('ipv6:')).to.throw(RangeError, /^Give ipv6:\[::1\]:50051\[,\.\.\.\]$/);
    expect(() => parseServer('ipv4:[::1]:1')).to.throw(RangeError, /^Give ipv4:127\.0\.0\.1:50051\[,\.\.\.\]; "\[::1\]:1" is not an IPV4 address$/);
    expect(() => parseServer('ipv6:127.0.0.1')).to.throw(RangeError, /^Give ipv6:\[::1\]:50051\[,\.\.\.\]; "127\.0\.0\.1" is not an IPV6 address$/);
    // grpc-js's empty authority is taken at the start of the list only.
    expect(() => parseServer('ipv4:127.0.0.1:1,///127.0.0.2:2')).to.throw(RangeError, /"\/\/\/127\.0\.0\.2:2" is not an IPV4 address$/);
  });

  it('refuses junk in one line', () => {
    for (const junk of [
      '',
      '127.0.0.1:50051/',
      'host:',
      'host:0',
      'host:65536',
      'host:port',
      'a b',
      'unix:',
      'ipv4:[::1]:1',
      'ipv6:127.0.0.1',
      'ipv4:',
      '-x',
    ]) {
      expect(() => parseServer(junk), JSON.stringify(junk)).to.throw(RangeError, /^Give /);
    }
  });

  it('maps a list of replicas to one target: ipv4:/ipv6: for addresses of one family, hosts: with names', () => {
    expect(parseServer('127.0.0.1:1,127.0.0.2:2, 127.0.0.3')).to.equal('ipv4:127.0.0.1:1,127.0.0.2:2,127.0.0.3:50051');
    expect(parseServer('[::1]:1,[::2]')).to.equal('ipv6:[::1]:1,[::2]:50051');
    expect(parseServer('localhost:1,127.0.0.2:2')).to.equal('hosts:localhost:1,127.0.0.2:2');
    expect(parseServer('127.0.0.1:1,[::1]:1')).to.equal('hosts:127.0.0.1:1,[::1]:1');
    expect(parseServer('ipv4:///127.0.0.1:1,127.0.0.2:2')).to.equal('ipv4:127.0.0.1:1,127.0.0.2:2');
  });

  it('names the entry of a list that is not host[:port]', () => {
    expect(() => parseServer('127.0.0.1:1,nope:x,127.0.0.3:3')).to.throw(RangeError, /^"nope:x" in the server list is not host\[:port\]/);
    expect(() => parseServer('127.0.0.1:1,  nope:x ')).to.throw(RangeError, /^"nope:x" in the server list/);
    expect(() => parseServer('127.0.0.1:1,')).to.throw(RangeError, /^"" in the server list/);
    expect(() => parseServer('ipv4:127.0.0.1:1,::1')).to.throw(RangeError, /"::1" is not an IPV4 address/);
  });

  it('lets a library caller give the same lists, and passes anything else to grpc-js as given', () => {
    expect(channelTarget('127.0.0.1:1,127.0.0.2:2')).to.equal('ipv4:127.0.0.1:1,127.0.0.2:2');
    expect(channelTarget('a.example,b.example:7')).to.equal('hosts:a.example:50051,b.example:7');
    for (const target of ['localhost:1', 'ipv4:127.0.0.1:1,127.0.0.2:2', 'dns:///x:1']) expect(channelTarget(target)).to.equal(target);
    expect(() => channelTarget('127.0.0.1:1,a b')).to.throw(RangeError, /"a b" in the server list/);
  });

  it('refuses an abstract socket, which grpc-js cannot dial, pointing to unix:', () => {
    expect(() => parseServer('unix-abstract:grpc')).to.throw(
      RangeError,
      /^Abstract sockets \(unix-abstract:\) are not something grpc-js can dial; give unix:\/path\/to\/socket$/,
    );
  });

  it('asks for brackets around a bare IPv6 address, and for host:port when a bracket is not closed', () => {
    expect(() => parseServer('::1')).to.throw(RangeError, /in brackets, e\.g\. \[::1\]:50051/);
    expect(() => parseServer('[::1')).to.throw(RangeError, /^Give host:port, e\.g\. 127\.0\.0\.1:50051$/);
  });

  it('takes IPv6 addresses with digits before their first colon, and one-letter host names', () => {
    expect(parseServer('[fe80::1]:6000')).to.equal('[fe80::1]:6000');
    expect(parseServer('[2001:db8::1]')).to.equal('[2001:db8::1]:50051');
    expect(parseServer('h')).to.equal('h:50051');
  });

  it('maps a list to ipv6: only when every entry is a real IPv6 address in brackets', () => {
    expect(parseServer('[1:2]:5,[::1]:6')).to.equal('hosts:[1:2]:5,[::1]:6');
  });

  it("passes a library caller's single host or gRPC target to grpc-js untouched, and checks a plain list whose later entry only looks like one", () => {
    expect(channelTarget('localhost')).to.equal('localhost');
    expect(channelTarget('ipv4:///127.0.0.1:1,127.0.0.2:2')).to.equal('ipv4:///127.0.0.1:1,127.0.0.2:2');
    expect(() => channelTarget('localhost:1,dns:x')).to.throw(RangeError, /"dns:x" in the server list/);
  });
});
