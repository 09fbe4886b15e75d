// nodeunits' static file server: what `script: "serve"` runs, as PM2 runs
// its own (`pm2 serve`). The helper writes it beside the preload and runs it
// with node (`nodeunits-helper --serve`). It reads PM2's variables:
//   PM2_SERVE_PATH      the directory served [the working directory]
//   PM2_SERVE_PORT      the port [8080]
//   PM2_SERVE_HOST      the address [0.0.0.0]
//   PM2_SERVE_SPA       "true": a path with no file gets the homepage
//   PM2_SERVE_HOMEPAGE  the homepage [/index.html]
//   PM2_SERVE_BASIC_AUTH "true", with PM2_SERVE_BASIC_AUTH_USERNAME and
//                       PM2_SERVE_BASIC_AUTH_PASSWORD: HTTP basic auth
// and, as PM2's does, the path, port and host as its arguments otherwise.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const env = process.env;
const root = path.resolve(env.PM2_SERVE_PATH || process.argv[2] || '.');
const port = Number(env.PM2_SERVE_PORT || process.argv[3] || 8080);
const host = env.PM2_SERVE_HOST || process.argv[4] || '0.0.0.0';
const spa = env.PM2_SERVE_SPA === 'true';
const homepage = env.PM2_SERVE_HOMEPAGE || '/index.html';
const credentials = env.PM2_SERVE_BASIC_AUTH === 'true'
  ? 'Basic ' + Buffer.from(`${env.PM2_SERVE_BASIC_AUTH_USERNAME || ''}:${env.PM2_SERVE_BASIC_AUTH_PASSWORD || ''}`).toString('base64')
  : null;

const TYPES = {
  avif: 'image/avif', css: 'text/css; charset=utf-8', csv: 'text/csv; charset=utf-8',
  gif: 'image/gif', gz: 'application/gzip', htm: 'text/html; charset=utf-8',
  html: 'text/html; charset=utf-8', ico: 'image/x-icon', jpeg: 'image/jpeg', jpg: 'image/jpeg',
  js: 'text/javascript; charset=utf-8', json: 'application/json', map: 'application/json',
  md: 'text/markdown; charset=utf-8', mjs: 'text/javascript; charset=utf-8', mp3: 'audio/mpeg',
  mp4: 'video/mp4', ogg: 'audio/ogg', otf: 'font/otf', pdf: 'application/pdf', png: 'image/png',
  svg: 'image/svg+xml', ttf: 'font/ttf', txt: 'text/plain; charset=utf-8', wasm: 'application/wasm',
  wav: 'audio/wav', webm: 'video/webm', webmanifest: 'application/manifest+json',
  webp: 'image/webp', woff: 'font/woff', woff2: 'font/woff2', xml: 'application/xml', zip: 'application/zip',
};

function authorized(request) {
  if (!credentials) return true;
  const given = Buffer.from(request.headers.authorization || '');
  const wanted = Buffer.from(credentials);
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted);
}

// The file a URL path names under the root, or null when it would leave it.
function fileOf(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch (_) {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.join(root, path.posix.normalize('/' + decoded));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function answer(response, status, text, headers) {
  response.writeHead(status, Object.assign({ 'Content-Type': 'text/plain; charset=utf-8' }, headers));
  response.end(text + '\n');
}

function send(request, response, file, fallback) {
  fs.stat(file, (err, stat) => {
    if (!err && stat.isDirectory()) return send(request, response, path.join(file, 'index.html'), fallback);
    if (err || !stat.isFile()) {
      const home = spa && fallback ? fileOf(homepage) : null;
      return home ? send(request, response, home, false) : answer(response, 404, 'Not Found');
    }
    response.writeHead(200, {
      'Content-Type': TYPES[path.extname(file).slice(1).toLowerCase()] || 'application/octet-stream',
      'Content-Length': stat.size,
      'Last-Modified': stat.mtime.toUTCString(),
    });
    if (request.method === 'HEAD') return response.end();
    fs.createReadStream(file).on('error', () => response.destroy()).pipe(response);
  });
}

http.createServer((request, response) => {
  if (!authorized(request)) {
    return answer(response, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="nodeunits"' });
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return answer(response, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  }
  const file = fileOf(new URL(request.url, 'http://localhost').pathname);
  if (!file) return answer(response, 400, 'Bad Request');
  send(request, response, file, true);
}).listen(port, host, () => console.log(`serving ${root} on ${host}:${port}`));
