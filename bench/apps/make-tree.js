// Makes a tree shaped like an app's node_modules for the watch measure
// (BENCHMARKS.md, "Watch"): `node make-tree.js DIR PACKAGES` writes
// DIR/node_modules/pkg-N/ with package.json, index.js, lib/ (8 files) and
// lib/internal/ (4 files) for each of PACKAGES packages, and DIR/app.js.
const fs = require('fs');
const path = require('path');

const [root, count] = [process.argv[2], Number(process.argv[3] || 1000)];
for (let n = 0; n < count; n++) {
  const pkg = path.join(root, 'node_modules', `pkg-${n}`);
  fs.mkdirSync(path.join(pkg, 'lib', 'internal'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: `pkg-${n}`, main: 'index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), "module.exports = require('./lib/a');\n");
  for (const file of 'abcdefgh') {
    fs.writeFileSync(path.join(pkg, 'lib', `${file}.js`), `module.exports = '${file}';\n`);
  }
  for (const file of '1234') {
    fs.writeFileSync(path.join(pkg, 'lib', 'internal', `${file}.js`), `module.exports = ${file};\n`);
  }
}
fs.writeFileSync(path.join(root, 'app.js'), "require('./node_modules/pkg-0');\n");
