// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { toClientError } from '../errors.js';
import { channelTarget } from '../connection/serverTarget.js';
import { registerHostLists } from '../connection/hostListResolver.js';

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, reply?: { status: string }) => void,
  ): grpc.ClientUnaryCall;
}

/** Asks grpc.health.v1.Health/Check; resolves with SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN. */
export async function checkHealth(server: string, service: string, credentials = grpc.credentials.createInsecure(), timeoutMs = 5000): Promise<string> {
  // Imported here, not at the top: grpc-client's bundle leaves this package
  // outside (see scripts/bundleClient.mjs), and an import at the top of any
  // module would load it, and protobufjs with it, on every start.
  const { protoPath } = await import('grpc-health-check');
  const definition = protoLoader.loadSync(protoPath, { enums: String, defaults: true });
  const Health = (
    grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: new (...args: ConstructorParameters<typeof grpc.Client>) => HealthClient } } };
    }
  ).grpc.health.v1.Health;
  registerHostLists();
  const client = new Health(channelTarget(server), credentials);
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, reply) => {
      client.close();
      if (err) reject(toClientError(err));
      else resolve(reply!.status);
    });
  });
}
