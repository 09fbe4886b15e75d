// An ES module: PM2 reads its named export `apps`.
import { fileURLToPath } from 'node:url';

export const apps = [
  {
    name: 'esm',
    script: fileURLToPath(new URL('./server.mjs', import.meta.url)),
    port: 8080,
    wait_ready: true,
  },
];
