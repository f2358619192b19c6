import { status } from '@grpc/grpc-js';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  bytesReceived(bytes: number): void {
    this.received.inc(bytes);
  }

  callEnded(method: string, code: status, seconds: number): void {
    this.calls.inc({ grpc_method: method, grpc_code: status[code] ?? String(code) });
    this.duration.observe({ grpc_method: method }, seconds);
  }

  /** Serves GET /metrics; resolves with the bound port. */
  async listen(host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end('not found; try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    });
    server.listen(port, host);
    await once(server, 'listening');
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
