/**
 * The floor under case 3: what Node and grpc-js alone cost to move 2,000
 * small files in one server stream, with none of what makes our client
 * safe: no task map, no lock, no fsync, no check of a name, no retry. The
 * server reads each file whole and sends it as a message of its own (as
 * DownloadMany does), or `pack` files to a message; the client hashes each
 * file with SHA-256, writes it to a temporary name and renames it.
 * Plain JavaScript, run by node itself: tsx would add its own start-up to
 * a figure that is mostly start-up and per-file cost.
 *
 *   manyFloor.mjs server FOLDER        prints its port; serves FOLDER's files
 *   manyFloor.mjs client PORT OUT PACK  writes them into OUT, PACK files a message
 */
// @ts-nocheck

import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const grpc = createRequire(import.meta.url)('@grpc/grpc-js');

const same = (bytes) => bytes;
const service = {
  get: {
    path: '/floor.Many/Get',
    requestStream: false,
    responseStream: true,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};

/** A file in a message: name length (2 bytes), data length (4), name, data. */
function frame(name, data) {
  const head = Buffer.alloc(6);
  const nameBytes = Buffer.from(name);
  head.writeUInt16BE(nameBytes.length, 0);
  head.writeUInt32BE(data.length, 2);
  return [head, nameBytes, data];
}

function serve(folder) {
  const server = new grpc.Server();
  server.addService(service, {
    get(call) {
      const pack = call.request.readUInt32BE(0);
      const names = readdirSync(folder).sort();
      let next = 0;
      const pump = () => {
        while (next < names.length) {
          const parts = [];
          for (let i = 0; i < pack && next < names.length; i += 1, next += 1) {
            parts.push(...frame(names[next], readFileSync(path.join(folder, names[next]))));
          }
          if (!call.write(Buffer.concat(parts))) return void call.once('drain', pump);
        }
        call.end();
      };
      pump();
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`${port}\n`);
  });
}

function fetch(port, out, pack) {
  mkdirSync(out, { recursive: true });
  const Client = grpc.makeGenericClientConstructor(service);
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const request = Buffer.alloc(4);
  request.writeUInt32BE(pack, 0);
  const call = client.get(request);
  call.on('data', (message) => {
    for (let at = 0; at < message.length;) {
      const nameLength = message.readUInt16BE(at);
      const dataLength = message.readUInt32BE(at + 2);
      const name = message.toString('utf8', at + 6, at + 6 + nameLength);
      const data = message.subarray(at + 6 + nameLength, at + 6 + nameLength + dataLength);
      at += 6 + nameLength + dataLength;
      createHash('sha256').update(data).digest('hex');
      const file = path.join(out, name);
      const fd = openSync(`${file}.part`, 'w');
      writeSync(fd, data);
      closeSync(fd);
      renameSync(`${file}.part`, file);
    }
  });
  call.on('end', () => client.close());
  call.on('error', (err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}

if (process.argv[2] === 'server') serve(process.argv[3]);
else fetch(process.argv[3], process.argv[4], Number(process.argv[5] ?? 1));
