// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { bounded, type ServerProcess } from './processes.js';

type HealthClient = grpc.Client & { watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }> };

/**
 * Watches the server's health, sends it SIGTERM once the watch says
 * SERVING, and resolves with every status seen once it says NOT_SERVING:
 * the drain has begun.
 */
export async function sigtermWhenServing(server: ServerProcess): Promise<string[]> {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, { enums: String, defaults: true, keepCase: true })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => HealthClient } } };
  };
  const client = new loaded.grpc.health.v1.Health(server.address, grpc.credentials.createInsecure());
  const watch = client.watch({ service: '' });
  watch.on('error', () => undefined);
  const statuses: string[] = [];
  const notServing = new Promise<void>((resolve) =>
    watch.on('data', (reply: { status: string }) => {
      statuses.push(reply.status);
      if (reply.status === 'SERVING') server.process.kill('SIGTERM');
      if (reply.status === 'NOT_SERVING') resolve();
    }),
  );
  try {
    await bounded('NOT_SERVING on the health watch after SIGTERM', notServing, [server]);
    return statuses;
  } finally {
    watch.cancel();
    client.close();
  }
}
