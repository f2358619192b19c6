// @ts-nocheck
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { beginListing } from '../../../src/client/mirror/earlyListing.js';

/** A listing whose items are pushed by the test, ending when told. */
function source() {
  const control: { take?: (item: number) => void; end?: () => void; signal?: AbortSignal } = {};
  const listing = beginListing<number>(
    (take, signal) =>
      new Promise<void>((resolve, reject) => {
        control.take = take;
        control.signal = signal;
        control.end = resolve;
        signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
      }),
  );
  return { listing, control };
}

describe('beginListing', () => {
  it('hands over what came before the drain, then the rest, in order', async () => {
    const { listing, control } = source();
    control.take!(1);
    control.take!(2);
    const seen: number[] = [];
    const drained = listing.drain((item) => seen.push(item));
    control.take!(3);
    control.end!();
    await drained;
    expect(seen).to.deep.equal([1, 2, 3]);
  });

  it('ends the listing when take throws on a kept item, with that error', async () => {
    const { listing, control } = source();
    control.take!(1);
    const failure = await listing
      .drain(() => {
        throw new Error('bad item');
      })
      .catch((err: Error) => err);
    expect((failure as Error).message).to.equal('bad item');
    expect(control.signal!.aborted).to.equal(true);
  });

  it('stops the listing on cancel or when the drain signal aborts, without an unhandled failure', async () => {
    const { listing, control } = source();
    listing.cancel();
    expect(control.signal!.aborted).to.equal(true);
    const aborted = source();
    const already = await aborted.listing.drain(() => undefined, AbortSignal.abort()).catch((err: Error) => err.message);
    expect(already, 'a drain whose signal aborted before it began').to.equal('cancelled');
    expect(aborted.control.signal!.aborted).to.equal(true);
    const second = source();
    const stop = new AbortController();
    const drained = second.listing.drain(() => undefined, stop.signal);
    stop.abort();
    expect(await drained.catch((err: Error) => err.message)).to.equal('cancelled');
  });

  it("lets go of the drain signal once the listing ended: a caller's long-lived signal gathers no listeners", async () => {
    const { listing, control } = source();
    const signal = new AbortController().signal;
    const drained = listing.drain(() => undefined, signal);
    expect(getEventListeners(signal, 'abort')).to.have.length(1);
    control.end!();
    await drained;
    expect(getEventListeners(signal, 'abort')).to.deep.equal([]);
  });
});
