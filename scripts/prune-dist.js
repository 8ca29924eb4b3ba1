#!/usr/bin/env node
// Removes compiled files in dist/ whose source in src/ no longer exists (a renamed or deleted
// .ts file leaves its .js behind, and the local host or the package would load it). Only such
// files: a build running at the same time never loses a file it needs. Runs before every
// `npm run build` (prebuild). Usage: node scripts/prune-dist.js [project root]
"use strict";
const { existsSync, readdirSync, rmSync, rmdirSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = process.argv[2] ?? join(__dirname, "..");
const dist = join(root, "dist");
const src = join(root, "src");
const COMPILED = /\.(js|js\.map|d\.ts|d\.ts\.map)$/;

function prune(dir) {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += prune(path);
      if (readdirSync(path).length === 0 && !existsSync(join(src, relative(dist, path)))) rmdirSync(path);
      continue;
    }
    const match = COMPILED.exec(entry.name);
    if (!match) continue;
    const source = join(src, relative(dist, dir), entry.name.slice(0, -match[0].length) + ".ts");
    if (!existsSync(source)) {
      rmSync(path, { force: true });
      removed++;
    }
  }
  return removed;
}

if (existsSync(dist)) {
  const removed = prune(dist);
  if (removed > 0) console.log(`prune-dist: removed ${removed} compiled file(s) with no source in src/`);
}
