import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

/** CA, server and client certificates made with the openssl CLI. */
export interface TestPki {
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing we use: for "wrong CA" checks. */
  otherCaFile: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** Make a throwaway PKI in `dir` (server certificate valid for 127.0.0.1 and localhost). */
export function makeTestPki(dir: string): TestPki {
  const ca = (name: string) => openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`], dir);
  ca('test-ca');
  ca('other-ca');
  const leaf = (name: string, ext: string) => {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  const f = (n: string) => path.join(dir, n);
  return { caFile: f('test-ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), otherCaFile: f('other-ca.pem') };
}

/**
 * A TLS endpoint in front of a Docker engine's BuildKit or a buildkitd's
 * socket: every TLS connection (ALPN h2, optionally requiring a client
 * certificate from the test CA) is joined to a fresh `POST /grpc` h2c
 * upgrade on the engine's socket, or (`engine: false`) straight to the
 * buildkitd socket. The client sees a BuildKit Control API over TLS, as a
 * remote buildkitd would offer it.
 */
export async function startTlsTerminator(pki: TestPki, dockerSocket: string, options: { requireClientCert: boolean; engine?: boolean }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: fs.readFileSync(pki.serverKey),
      cert: fs.readFileSync(pki.serverCert),
      ca: fs.readFileSync(pki.caFile),
      requestCert: options.requireClientCert,
      rejectUnauthorized: options.requireClientCert,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => client.destroy());
      client.pause();
      const engine = net.connect(dockerSocket);
      sockets.add(engine);
      engine.on('close', () => sockets.delete(engine));
      engine.on('error', () => client.destroy());
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        engine.off('data', onData);
        if (!head.subarray(0, end).toString().startsWith('HTTP/1.1 101')) return client.destroy();
        const rest = head.subarray(end + 4);
        if (rest.length) client.write(rest);
        client.pipe(engine);
        engine.pipe(client);
        client.resume();
      };
      if (options.engine === false) {
        client.pipe(engine);
        engine.pipe(client);
        client.resume();
      } else {
        engine.on('data', onData);
        engine.write('POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n');
      }
      client.on('close', () => engine.destroy());
      engine.on('close', () => client.destroy());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
