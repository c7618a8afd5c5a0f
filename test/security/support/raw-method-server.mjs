// Serves a built Astro fixture (node adapter, ASTRO_NODE_AUTOSTART=disabled) and sets each
// request's method verbatim from the `x-test-method` header before Astro sees it, as runtimes
// that pass lowercase methods through would. Usage: node raw-method-server.mjs <entry.mjs> <port>
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [entry, port] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(entry).href);

createServer((req, res) => {
  const method = req.headers['x-test-method'];
  if (typeof method === 'string') req.method = method;
  handler(req, res);
}).listen(Number(port), '127.0.0.1');

// Exit with the test run, even if it is killed before it can stop this server.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
