// @ts-nocheck
import { expect } from 'chai';
import { digestParts } from '../../../src/server/blocks.js';

/** `count` distinct 32-byte digests, back to back. */
const digests = (count: number) => Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.alloc(32, i)));
const shape = (blocks: Buffer, perMessage: number) => [...digestParts(blocks, perMessage)].map((part) => [part.firstBlock, part.sha256.map((d) => d[0])]);

describe('digestParts', () => {
  it('numbers the parts without gap or overlap, the last one short', () => {
    expect(shape(digests(5), 2)).to.deep.equal([
      [0, [0, 1]],
      [2, [2, 3]],
      [4, [4]],
    ]);
    expect(shape(digests(4), 2)).to.deep.equal([
      [0, [0, 1]],
      [2, [2, 3]],
    ]);
  });

  it('gives an empty file one empty part, to carry its info', () => {
    expect(shape(Buffer.alloc(0), 8192)).to.deep.equal([[0, []]]);
  });

  it('gives views of 32 bytes each', () => {
    const [part] = [...digestParts(digests(3), 8192)];
    expect(part!.sha256.map((d) => d.length)).to.deep.equal([32, 32, 32]);
    expect(Buffer.concat(part!.sha256).equals(digests(3))).to.equal(true);
  });
});
