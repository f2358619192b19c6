// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the file service (prom-client), served on their own port. */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly bytesSent = new Counter({
    name: 'filetransfer_bytes_sent_total',
    help: 'File bytes sent in Download streams',
    registers: [this.registry],
  });
  private readonly received = new Counter({
    name: 'filetransfer_bytes_received_total',
    help: 'File bytes received in Upload streams and staged',
    registers: [this.registry],
  });
  private readonly calls = new Counter({
    name: 'grpc_server_handled_total',
    help: 'Calls completed, by method and status code',
    labelNames: ['grpc_method', 'grpc_code'],
    registers: [this.registry],
  });
  private readonly hashed = new Counter({
    name: 'filetransfer_files_hashed_total',
    help: 'Whole files read to hash them (for Stat, Blocks, a resume), not counting those hashed while streamed',
    registers: [this.registry],
  });
  private readonly active = new Gauge({
    name: 'filetransfer_active_streams',
    help: 'Download streams in progress',
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Call duration, by method',
    labelNames: ['grpc_method'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  streamStarted(): void {
    this.active.inc();
  }

  streamEnded(bytes: number): void {
    this.active.dec();
    this.bytesSent.inc(bytes);
  }

  fileHashed(): void {
    this.hashed.inc();
  }

  bytesReceived(bytes: number): void {
    this.received.inc(bytes);
  }

  callEnded(method: string, code: status, seconds: number): void {
    this.calls.inc({ grpc_method: method, grpc_code: status[code] ?? String(code) });
    this.duration.observe({ grpc_method: method }, seconds);
  }

  /** Serves GET /metrics; resolves with the bound port. */
  listen(host: string, port: number): Promise<MetricsServer> {
    return serveMetrics(host, port, () => this.registry.metrics(), this.registry.contentType);
  }

  /** In a cluster worker: what it answers to its primary's scrapes (see serveClusterMetrics). */
  json(): Promise<object[]> {
    return this.registry.getMetricsAsJSON();
  }
}

interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * In a cluster primary: serves the metrics of all workers together, as
 * prom-client aggregates them (counters and histograms summed; each
 * metric's own rule for the process ones). The workers are asked by
 * `gather`, not by AggregatorRegistry.clusterMetrics, which also asks a
 * worker still starting and waits for a dead one, then fails the scrape.
 */
export function serveClusterMetrics(host: string, port: number, gather: () => Promise<object[][]>): Promise<MetricsServer> {
  return serveMetrics(host, port, async () => AggregatorRegistry.aggregate(await gather()).metrics(), Registry.PROMETHEUS_CONTENT_TYPE);
}

/** Why the metrics port cannot be listened on, naming its flag: the gRPC port's words (see cli.ts) would name --port. */
function metricsListenProblem(port: number, err: NodeJS.ErrnoException): string {
  if (err.code === 'EADDRINUSE') return `--metrics-port ${port} is in use; choose another`;
  if (err.code === 'EACCES') return `--metrics-port ${port}: no permission to listen there; choose one above 1023`;
  return `--metrics-port ${port}: ${err.message}`;
}

async function serveMetrics(host: string, port: number, render: () => Promise<string>, contentType: string): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end('not found; try /metrics\n');
      return;
    }
    render().then(
      (text) => res.writeHead(200, { 'content-type': contentType }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  server.listen(port, host);
  await once(server, 'listening').catch((err: NodeJS.ErrnoException) => Promise.reject(new Error(metricsListenProblem(port, err))));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
