/**
 * `npm start` entry: serves the demo on PORT (default 3000) and prints its URL.
 * Environment: PORT, HOST (default all interfaces), SGENET_TILE_SIZE, SGENET_THREADS,
 * SGENET_REGIONS (off, auto, 2, 3 or 4: per-region kernels).
 */
import { createDeblurrer, REGIONS_CHOICES, regionsFromText } from '@sgenet/core';
import type { RegionsChoice } from '@sgenet/core';

import { createDemoApp } from './index.js';

function envInt(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name}=${raw} is not an integer between ${min} and ${max}: fix it or unset it`);
    process.exit(1);
  }
  return value;
}

const port = envInt('PORT', 3000, 0, 65535)!;
const host = process.env.HOST || undefined;
const threads = envInt('SGENET_THREADS', undefined, 1, 1024);
const tileSize = envInt('SGENET_TILE_SIZE', 512, 64, 8192);

/** SGENET_REGIONS: one of core's REGIONS_CHOICES; unset, the library's default (off). */
function envRegions(): RegionsChoice | undefined {
  const raw = process.env.SGENET_REGIONS;
  if (raw === undefined || raw === '') return undefined;
  const value = regionsFromText(raw);
  if (value === undefined) {
    console.error(`SGENET_REGIONS=${raw} is not one of ${REGIONS_CHOICES.join(', ')}: fix it or unset it`);
    process.exit(1);
  }
  return value;
}
const regions = envRegions();

const started = Date.now();
const deblurrer = createDeblurrer(threads ? { threads } : {});
const demo = createDemoApp({ deblurrer, ...(tileSize ? { tileSize } : {}), ...(regions !== undefined ? { regions } : {}) });

const onListening = (): void => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`SGENet demo: http://${host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost'}:${actual}/`);
};
const server = host ? demo.app.listen(port, host, onListening) : demo.app.listen(port, onListening);
server.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE') console.error(`Port ${port} is in use: start with another one, e.g. PORT=${port + 1} npm start`);
  else console.error('The demo server failed:', err);
  process.exit(1);
});

deblurrer.then(
  (d) => console.log(`Model ${d.model.name} ${d.model.version} loaded on ${d.backend}/${d.provider} in ${Date.now() - started} ms`),
  (err: unknown) => console.error('The model failed to load; deblurring requests will fail:', err),
);

// A demo server logs stray failures instead of dying on them.
process.on('unhandledRejection', (reason) => console.error('[demo] unhandled rejection:', reason));

let closing = false;
function shutdown(signal: string): void {
  if (closing) return;
  closing = true;
  console.log(`${signal}: shutting down`);
  demo.hub.close();
  server.close(() => {
    void demo.close().finally(() => process.exit(0));
  });
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
