// @ts-nocheck
import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const DIR = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
const SERVER_CLI = fileURLToPath(new URL('../../../src/server/cli.ts', import.meta.url));

/** The fields of the manifests this test reads; the rest is Kubernetes's to check. */
interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: unknown;
}

interface Container {
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { grpc?: { port: number | string; service?: string } };
  livenessProbe?: { grpc?: { port: number | string } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface DeploymentSpec {
  selector: { matchLabels: Record<string, string> };
  template: { spec: { containers: Container[]; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } };
}

interface ServiceSpec {
  clusterIP: string;
  selector: Record<string, string>;
  ports: { name: string; port: number; targetPort: string | number }[];
}

/** Every document of every *.yaml under deploy/kubernetes, with its file; a YAML error fails here, naming the file. */
async function manifests(): Promise<(Manifest & { file: string })[]> {
  const files = (await readdir(DIR)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const all: (Manifest & { file: string })[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(path.join(DIR, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      all.push({ ...(doc.toJS() as Manifest), file });
    }
  }
  return all;
}

/** The one manifest of `kind`, with the `spec` fields a test reads. */
async function only<Spec>(kind: string): Promise<Manifest & { spec: Spec }> {
  const found = (await manifests()).filter((m) => m.kind === kind);
  expect(found, `one ${kind}`).to.have.length(1);
  return found[0] as Manifest & { spec: Spec };
}

/** `--name=value` arguments as a map. */
function flags(args: string[]): Map<string, string> {
  return new Map(
    args.map((arg) => {
      const match = /^--([a-z-]+)=(.*)$/.exec(arg);
      if (!match) throw new Error(`give grpc-server's arguments as --name=value, not ${arg}`);
      return [match[1]!, match[2]!];
    }),
  );
}

describe('deploy/kubernetes manifests', () => {
  it('parse, and each is a known kind with an apiVersion and a name', async () => {
    const all = await manifests();
    for (const m of all) {
      expect(m.apiVersion, m.file).to.be.a('string');
      expect(m.metadata?.name, m.file).to.be.a('string');
    }
    expect(all.map((m) => m.kind).sort()).to.deep.equal(['Deployment', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service']);
  });

  it('run grpc-server with flags it has, listening on the pod address and the port the Service targets', async () => {
    const deployment = await only<DeploymentSpec>('Deployment');
    const [container] = deployment.spec.template.spec.containers;
    const args = flags(container!.args ?? []);
    const known = [...(await readFile(SERVER_CLI, 'utf8')).matchAll(/'--([a-z-]+) </g)].map((m) => m[1]);
    for (const name of args.keys()) expect(known, `grpc-server's flags`).to.include(name);
    expect(args.get('host')).to.equal('0.0.0.0');
    const grpcPort = container!.ports!.find((p) => p.name === 'grpc')!;
    expect(grpcPort.containerPort).to.equal(Number(args.get('port')));
    expect(container!.ports!.find((p) => p.name === 'metrics')?.containerPort).to.equal(Number(args.get('metrics-port')));

    const service = await only<ServiceSpec>('Service');
    expect(service.spec.clusterIP, 'headless: the name resolves to the pods').to.equal('None');
    expect(service.spec.selector).to.deep.equal(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).to.have.length(1);
    expect(service.spec.ports[0]).to.include({ name: 'grpc', port: grpcPort.containerPort, targetPort: 'grpc' });
    const budget = await only<{ selector: { matchLabels: Record<string, string> } }>('PodDisruptionBudget');
    expect(budget.spec.selector.matchLabels).to.deep.equal(deployment.spec.selector.matchLabels);
  });

  it('probe readiness on the gRPC health service, and close connections within minutes so clients rebalance', async () => {
    const deployment = await only<DeploymentSpec>('Deployment');
    const [container] = deployment.spec.template.spec.containers;
    for (const probe of [container!.readinessProbe, container!.livenessProbe]) {
      expect(probe?.grpc?.port, 'a grpc: probe on the gRPC port').to.be.oneOf([50051, 'grpc']);
    }
    expect(container!.readinessProbe!.grpc!.service ?? '').to.be.oneOf(['', 'filetransfer.v1.FileService']);
    const age = Number(flags(container!.args!).get('max-connection-age-ms'));
    expect(age).to.be.within(60_000, 15 * 60_000);
  });

  it('mount the files read-only and a writable --state-dir, each from a declared volume', async () => {
    const deployment = await only<DeploymentSpec>('Deployment');
    const { containers, volumes } = deployment.spec.template.spec;
    const args = flags(containers[0]!.args!);
    const mount = (dir: string | undefined) => containers[0]!.volumeMounts!.find((m) => m.mountPath === dir);
    expect(mount(args.get('root')), '--root is a mount').to.include({ readOnly: true });
    expect(mount(args.get('state-dir')), '--state-dir is a mount').to.be.an('object');
    expect(mount(args.get('state-dir'))!.readOnly ?? false, '--state-dir is writable').to.equal(false);
    for (const m of containers[0]!.volumeMounts!) expect(volumes.map((v) => v.name)).to.include(m.name);
    const claim = await only('PersistentVolumeClaim');
    expect(volumes.find((v) => v.name === mount(args.get('root'))!.name)?.persistentVolumeClaim?.claimName).to.equal(claim.metadata!.name);
  });
});
