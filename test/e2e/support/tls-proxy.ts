/**
 * A TLS-terminating reverse proxy in front of a demo server, as a deployment has one (nginx,
 * Caddy, a load balancer): HTTPS on a free loopback port with a throwaway self-signed certificate
 * for `hostname` (made by Debian's `openssl`), forwarding each request to the app over plain HTTP
 * with the browser's `Host` kept and `X-Forwarded-Proto`/`X-Forwarded-Host` added.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/services.ts';

/** A running proxy. */
export interface TlsProxy {
  /** The port the proxy listens on (HTTPS). */
  readonly port: number;
  stop(): Promise<void>;
}

function selfSignedCertificate(hostname: string): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${hostname}`,
        '-addext',
        `subjectAltName=DNS:${hostname}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a TLS proxy for `hostname` in front of the HTTP app at `target` (e.g. `http://127.0.0.1:4321`). */
export async function startTlsProxy(hostname: string, target: string): Promise<TlsProxy> {
  const upstream = new URL(target);
  const server = createServer(selfSignedCertificate(hostname), (incoming, outgoing) => {
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: {
          ...incoming.headers,
          'x-forwarded-proto': 'https',
          'x-forwarded-host': incoming.headers.host ?? hostname,
        },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forwarded);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
