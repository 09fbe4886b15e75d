// Evaluates an ecosystem file in JavaScript as PM2 does, run by nodeunits as
// `node -e <this> FILE` in the file's directory: `require()` it, or
// `import()` an ES module that cannot be required, and print what it
// exports as JSON on stdout. With `--expression` after FILE, the file is a
// `.json` file that is not JSON: it is evaluated as one JavaScript
// expression, as PM2 evaluates every `.json` file (`Common.parseConfig`: the
// text in parentheses, run in Node's global context, which has no
// `require`, `module` or `__dirname`). An error of the file is left
// uncaught, so that Node prints it with its place, and exits 1.
'use strict';

const file = process.argv[1];
const expression = process.argv[2] === '--expression';
const { inspect } = require('util');

// What the file prints must not mix with the result.
const writeResult = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

// An ES module gives its namespace: its default export, else its `apps`.
function exported(loaded) {
  const namespace =
    Object.prototype.toString.call(loaded) === '[object Module]' ||
    (loaded !== null && typeof loaded === 'object' && loaded.__esModule === true);
  if (!namespace) return loaded;
  if (loaded.default !== undefined) return loaded.default;
  if (loaded.apps !== undefined) return { apps: loaded.apps };
  fail('the module exports neither a default export nor `apps`');
}

// Values JSON can hold: functions and undefined are dropped, as PM2 never
// reads them.
function plain(value, path, seen) {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    return undefined;
  }
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value !== 'object') return value;
  if (typeof value.toJSON === 'function') return plain(value.toJSON(), path, seen);
  if (seen.has(value)) fail(`the exported value contains itself, at ${path || 'the top'}`);
  seen.add(value);
  let result;
  if (Array.isArray(value)) {
    result = value
      .map((item, index) => plain(item, `${path}[${index}]`, seen))
      .filter((item) => item !== undefined);
  } else {
    result = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = plain(item, path ? `${path}.${key}` : key, seen);
      if (converted !== undefined) result[key] = converted;
    }
  }
  seen.delete(value);
  return result;
}

function finish(loaded) {
  const value = exported(loaded);
  if (typeof value === 'function') {
    fail('the file exports a function; PM2 does not call it: export the object itself');
  }
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
    fail('the file exports a Promise; PM2 does not wait for it: export the object itself');
  }
  if (value === undefined) fail('the file exports nothing: set `module.exports = { apps: [...] }`');
  const json = JSON.stringify(plain(value, '', new Set()), null, 2);
  writeResult(json + '\n', () => process.exit(0));
}

// A syntax error is rethrown: Node prints it with the line and a caret.
// Any other error has its place in its stack.
function failed(error) {
  if (error instanceof SyntaxError) throw error;
  fail(error instanceof Error ? error.stack : `uncaught exception: ${inspect(error)}`);
}

function evaluateExpression() {
  const text = require('fs').readFileSync(file, 'utf8');
  const vm = require('vm');
  // What `node -e` adds to the global context, which PM2's has not.
  for (const name of ['require', 'module', 'exports', '__filename', '__dirname']) {
    delete globalThis[name];
  }
  let value;
  try {
    value = vm.runInThisContext('(' + text + ')', { filename: file, timeout: 1000 });
  } catch (error) {
    failed(error);
  }
  finish(value);
}

function evaluateModule() {
  let loaded;
  let esModule = false;
  try {
    loaded = require(file);
  } catch (error) {
    if (!error || !['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE'].includes(error.code)) failed(error);
    esModule = true;
  }
  if (esModule) {
    import(require('url').pathToFileURL(file).href).then(finish, failed);
  } else {
    finish(loaded);
  }
}

if (expression) {
  evaluateExpression();
} else {
  evaluateModule();
}
