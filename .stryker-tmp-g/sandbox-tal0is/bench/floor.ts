/**
 * The floor under case 1: 1 GiB over a bare grpc-js server stream between
 * two processes, with our message codec and flow-control window but no
 * file, no disk and no hash. What grpc-js and HTTP/2 alone cost here.
 *
 *   floor.ts server        prints its port, streams 1 GiB per call
 *   floor.ts client PORT   prints the seconds from call to last byte
 */
// @ts-nocheck

import * as grpc from '@grpc/grpc-js';
import { CHUNK_HEADER_ROOM, sealChunk } from '../src/shared/chunkCodec.js';
import { connect } from '../src/client/connection/connect.js';
import { loadFileTransfer } from '../src/shared/proto.js';

const CHUNK = 256 * 1024;
const TOTAL = 1024 * 1024 * 1024;

async function serve(): Promise<void> {
  // One message sent over and over (offset 0 each time, which this client
  // does not check): grpc-js may serialize a write after the next is queued.
  const message = sealChunk(Buffer.alloc(CHUNK_HEADER_ROOM + CHUNK, 7), 0, CHUNK);
  const server = new grpc.Server();
  server.addService(loadFileTransfer().FileService.service, {
    Download(call: grpc.ServerWritableStream<unknown, unknown>) {
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += CHUNK;
          if (!call.write(message)) return void call.once('drain', pump);
        }
        call.end();
      };
      pump();
    },
    Stat() {},
    List() {},
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  process.stdout.write(`${port}\n`);
}

async function fetch(port: string): Promise<void> {
  const client = connect(`127.0.0.1:${port}`);
  const started = process.hrtime.bigint();
  let received = 0;
  for await (const message of client.download({ name: 'floor', offset: '0' }) as AsyncIterable<{ data: Buffer }>) received += message.data.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (received !== TOTAL) throw new Error(`received ${received} bytes, expected ${TOTAL}`);
  process.stdout.write(`${seconds}\n`);
  client.close();
}

if (process.argv[2] === 'server') await serve();
else await fetch(process.argv[3]!);
