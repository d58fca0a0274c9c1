// Compile a solc standard-json input (stdin) with solcjs, writing the output JSON to --out.
// Imports resolve against --base-path, then each --include-path, like native solc.
"use strict";
const fs = require("fs");
const path = require("path");

function parseArgs(argv) {
  const opts = { out: null, basePath: process.cwd(), includePaths: [], standardJson: false, module: "solc" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes("=") ? a.split(/=(.*)/s, 2) : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case "--out": opts.out = value(); break;
      case "--solc-module": opts.module = value(); break; // e.g. solc-0.6.12 (an npm alias)
      case "--standard-json": opts.standardJson = true; break;
      case "--base-path": opts.basePath = value(); break;
      case "--include-path": opts.includePaths.push(value()); break;
      case "--allow-paths": value(); break; // solcjs reads only through the callback below
      case "--no-import-callback": break;
      default:
        process.stderr.write(`solc shim: unsupported flag ${a}; only --version and --standard-json are available\n`);
        process.exit(2);
    }
  }
  if (!opts.standardJson) {
    process.stderr.write("solc shim: pass --standard-json (input on stdin)\n");
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const roots = [opts.basePath, ...opts.includePaths].map((p) => path.resolve(p));

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
  for (const c of candidates) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return { contents: fs.readFileSync(c, "utf8") };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const solc = require(opts.module);
const input = fs.readFileSync(0, "utf8");
const output = solc.compile(input, { import: findImports });
fs.writeFileSync(opts.out, output);
