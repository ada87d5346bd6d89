import { readFile } from 'fs/promises';
import { createServer } from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';

const FRONTEND = join(__dirname, '..', '..');
const modules = (path: string) => join(FRONTEND, 'node_modules', path);

/** Where `npm run build:harness` writes the bundle (harness.js and the CSS its packages import). */
const BUNDLE = join(FRONTEND, 'browser-output', 'harness');

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Editors</title>
<link rel="stylesheet" href="/harness.css"></head>
<body><div id="root"></div><script src="/harness.js"></script></body></html>`;

/**
 * What the page loads: the bundle, @grafana/ui's icons, and Inter from
 * @fontsource/inter at the paths Grafana's GlobalStyles ask for, so text
 * is measured in Grafana's font on any machine.
 */
function fileFor(path: string): { file: string; type: string } | undefined {
  const bundled: Record<string, string> = { '/harness.js': 'text/javascript', '/harness.css': 'text/css' };
  if (bundled[path]) {
    return { file: join(BUNDLE, path), type: bundled[path] };
  }
  const fonts: Record<string, string> = {
    '/public/fonts/inter/Inter-Regular.woff2': 'inter-latin-400-normal.woff2',
    '/public/fonts/inter/Inter-Medium.woff2': 'inter-latin-500-normal.woff2',
  };
  if (fonts[path]) {
    return { file: modules(`@fontsource/inter/files/${fonts[path]}`), type: 'font/woff2' };
  }
  const icon = /^\/public\/build\/img\/icons\/([a-z]+\/[a-z0-9-]+\.svg)$/.exec(path);
  if (icon) {
    return { file: modules(`@grafana/ui/dist/public/img/icons/${icon[1]}`), type: 'image/svg+xml' };
  }
  return undefined;
}

export interface HarnessServer {
  url: string;
  close: () => Promise<void>;
}

/** Serves the harness page on a loopback port the system picks. */
export async function serveHarness(): Promise<HarnessServer> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const found = fileFor(path);
    try {
      const body = found ? await readFile(found.file) : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': found?.type ?? 'text/plain' }).end(body ?? 'not found');
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
