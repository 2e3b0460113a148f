import { Writable } from 'node:stream';

/**
 * A Writable that copies every chunk to several destinations and applies backpressure until
 * all of them accept it: the slowest consumer sets the pace, so memory stays bounded.
 * Ending the tee ends every destination; an error from any destination fails the tee.
 */
export function createTee(destinations: Writable[]): Writable {
  const tee = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      let pending = 0;
      let called = false;
      const done = (err?: Error | null) => {
        if (called) return;
        if (err) {
          called = true;
          return cb(err);
        }
        if (--pending === 0) {
          called = true;
          cb();
        }
      };
      pending = destinations.length;
      for (const d of destinations) {
        if (d.write(chunk)) done();
        else d.once('drain', () => done());
      }
    },
    final(cb) {
      let pending = destinations.length;
      if (pending === 0) return cb();
      for (const d of destinations) {
        d.end(() => {
          if (--pending === 0) cb();
        });
      }
    },
    destroy(err, cb) {
      // autoDestroy runs after a clean finish too: only an error may tear down the destinations,
      // which may still hold data their readers have not consumed yet.
      if (err) for (const d of destinations) if (!d.destroyed) d.destroy(err);
      cb(err);
    },
  });
  for (const d of destinations) d.on('error', (err) => tee.destroy(err));
  return tee;
}
