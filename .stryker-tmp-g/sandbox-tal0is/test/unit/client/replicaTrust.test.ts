// @ts-nocheck
import { expect } from 'chai';
import { connect } from '../../../src/client/connection/connect.js';
import { ReplicaSet } from '../../../src/client/connection/replicas.js';
import { ReplicaTrust } from '../../../src/client/download/replicaTrust.js';

// Real clients: grpc-js dials nothing until a call is made, and none is.
function trustOf(server: string) {
  const shared = connect(server);
  const replicas = new ReplicaSet(server, {}, shared);
  return {
    trust: new ReplicaTrust(replicas),
    replicas,
    close: () => {
      replicas.close();
      shared.close();
    },
  };
}

describe('ReplicaTrust', () => {
  it('excludes a replica only while another is left', () => {
    const { trust, close } = trustOf('127.0.0.1:1,127.0.0.2:1,127.0.0.3:1');
    try {
      expect(trust.entries).to.deep.equal(['127.0.0.1:1', '127.0.0.2:1', '127.0.0.3:1']);
      expect(trust.exclude('127.0.0.1:1')).to.equal(true);
      expect(trust.hasOtherThan('127.0.0.2:1')).to.equal(true);
      expect(trust.exclude('127.0.0.2:1')).to.equal(true);
      expect(trust.hasOtherThan('127.0.0.3:1'), 'the others are excluded').to.equal(false);
      expect(trust.exclude('127.0.0.3:1'), 'the last one is kept').to.equal(false);
      expect([...trust.excluded]).to.deep.equal(['127.0.0.1:1', '127.0.0.2:1']);
    } finally {
      close();
    }
  });

  it('routes a single stream over the shared channel until a replica is excluded, then to a trusted one of its own', () => {
    const { trust, replicas, close } = trustOf('127.0.0.1:1,127.0.0.2:1');
    try {
      expect(trust.streamRoute()).to.deep.equal({ client: replicas.shared, entry: undefined });
      trust.exclude('127.0.0.1:1');
      const route = trust.streamRoute();
      expect(route.entry).to.equal('127.0.0.2:1');
      expect(route.client).to.equal(replicas.client('127.0.0.2:1', 0)).and.not.equal(replicas.shared);
    } finally {
      close();
    }
  });

  it('binds a single server to its shared channel, and names a peer by its replica', () => {
    const { trust, replicas, close } = trustOf('127.0.0.1:1');
    try {
      expect(trust.streamRoute()).to.deep.equal({ client: replicas.shared, entry: '127.0.0.1:1' });
      expect(trust.replicaOf('127.0.0.1:1')).to.equal('127.0.0.1:1');
      expect(trust.replicaOf('10.9.9.9:5'), 'a peer that is none of ours').to.equal('10.9.9.9:5');
    } finally {
      close();
    }
  });

  it('counts the calls running on a replica, and routes lanes to the least busy', () => {
    const { trust, close } = trustOf('127.0.0.1:1,127.0.0.2:1');
    try {
      const leave = trust.enter('127.0.0.1:1');
      trust.enter('127.0.0.1:1');
      expect(trust.busy.get('127.0.0.1:1')).to.equal(2);
      expect(trust.route(1)!.entry).to.equal('127.0.0.2:1');
      leave();
      expect(trust.busy.get('127.0.0.1:1')).to.equal(1);
      trust.exclude('127.0.0.2:1');
      expect(trust.route(2)!.entry, 'only trusted replicas').to.equal('127.0.0.1:1');
    } finally {
      close();
    }
  });
});
