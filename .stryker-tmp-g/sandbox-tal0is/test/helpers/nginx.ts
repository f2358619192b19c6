// @ts-nocheck
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bounded, type Watched } from './processes.js';

const DEPLOY_CONF = fileURLToPath(new URL('../../deploy/nginx.conf', import.meta.url));

/** What a test changes in deploy/nginx.conf: where it listens, the replicas, and where nginx may write. */
interface NginxSite {
  listen: string;
  upstreams: string[];
  workDir: string;
  /** FileService methods nginx answers 404 for, which grpc-js reads as UNIMPLEMENTED: a server older than them. */
  hidden?: string[];
}

/**
 * deploy/nginx.conf with the test's addresses and every path nginx writes
 * moved into `workDir`, everything else (timeouts, retries, buffers) as
 * shipped. A line it cannot find means the shipped file changed shape: it
 * says which, rather than testing some other config.
 */
function renderNginxConf(template: string, site: NginxSite): string {
  const replaceOnce = (text: string, pattern: RegExp, replacement: string, what: string) => {
    const found = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))?.length ?? 0;
    if (found !== 1) throw new Error(`deploy/nginx.conf should have exactly one ${what}, found ${found}`);
    return text.replace(pattern, replacement);
  };
  const upstream = /^(\s*upstream grpc_files \{\n)((?:.*\n)*?)(\s*\})/m.exec(template);
  if (!upstream) throw new Error('deploy/nginx.conf should have an "upstream grpc_files { ... }" block');
  const serverLine = /^\s*server\s+[^\s;{]+[^;{]*;\n/gm;
  const body = upstream[2]!;
  const firstServer = body.search(serverLine);
  if (firstServer < 0) throw new Error('the upstream grpc_files block of deploy/nginx.conf should list its replicas as "server host:port;" lines');
  const indent = /^\s*/.exec(body.slice(firstServer))![0];
  const servers = site.upstreams.map((address) => `${indent}server ${address};\n`).join('');
  const withoutServers = body.replace(serverLine, (_line, offset: number) => (offset === firstServer ? servers : ''));
  let text = template.replace(upstream[0], `${upstream[1]}${withoutServers}${upstream[3]}`);
  text = replaceOnce(text, /^(\s*)listen\s+\S+\s+http2;/m, `$1listen ${site.listen} http2;`, 'listen ... http2; line');
  text = replaceOnce(text, /^(\s*access_log\s+)\S+/m, `$1${path.join(site.workDir, 'access.log')}`, 'access_log line');
  const hidden = (site.hidden ?? []).map((method) => `$1location = /filetransfer.v1.FileService/${method} { return 404; }\n`).join('');
  text = replaceOnce(text, /^(\s*)location \/ \{/m, `${hidden}$1location / {`, '"location / {" line');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${path.join(site.workDir, kind)};\n`).join('');
  return replaceOnce(text, /^http \{\n/m, `http {\n${temps}`, '"http {" line');
}

/** nginx on PATH, or where Debian puts it (/usr/sbin is not on a normal user's PATH). */
function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface NginxProcess extends Watched {
  address: string;
  /** Lines of the access log (deploy/nginx.conf's `grpc` format), one per finished call. */
  accessLog(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The real nginx with deploy/nginx.conf in front of `upstreams`, as the
 * current user: its pid, logs and temp folders in `workDir`, in the
 * foreground. Resolves once a worker has started: the port was bound
 * before that.
 */
export async function startNginx(upstreams: string[], workDir: string, options: { hidden?: string[] } = {}): Promise<NginxProcess> {
  const nginx = findNginx();
  if (!nginx) throw new Error('nginx is not installed (not on PATH nor in /usr/sbin): .ci/run installs it with apt-get install nginx-light');
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const conf = path.join(workDir, 'nginx.conf');
  await writeFile(conf, renderNginxConf(await readFile(DEPLOY_CONF, 'utf8'), { listen, upstreams, workDir, hidden: options.hidden }));
  // Workers of a root master run as nobody, who cannot enter the test's
  // mode-700 temp folders.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const globals = `daemon off; pid ${path.join(workDir, 'nginx.pid')}; error_log stderr notice; ${user}`;
  const child = spawn(nginx, ['-p', workDir, '-c', conf, '-g', globals], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => stderr.push(line));
  const ended = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`nginx (pid ${child.pid}) exited with ${signal ?? code}`)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const started: NginxProcess = {
    address: listen,
    ended,
    describe: () => `nginx (pid ${child.pid}) ${running() ? 'running' : 'exited'}; stderr tail:\n  ${stderr.slice(-8).join('\n  ')}`,
    accessLog: async () => (await readFile(path.join(workDir, 'access.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
    stop: async () => {
      if (!running()) return;
      const exited = once(child, 'exit');
      // QUIT lets workers finish their calls; one that hangs gets KILL.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGQUIT');
      await exited;
      clearTimeout(timer);
    },
  };
  const ready = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (/start worker process \d+/.test(line)) resolve();
    });
  });
  await bounded('nginx to start a worker', ready, [started]);
  return started;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
