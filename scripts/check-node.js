#!/usr/bin/env node
// Run first by the npm scripts that run the app or its tests: on a Node.js older than the one
// package.json's engines names, one line saying how to get it, and exit 1. Plain old JavaScript,
// so that it runs on any Node.js.
var path = require("path");
var fs = require("fs");

var engines = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).engines.node;
var needed = Number(/\d+/.exec(engines)[0]);
var running = Number(process.versions.node.split(".")[0]);
if (running < needed) {
  process.stderr.write(
    "This project needs Node.js " +
      needed +
      " or later; this is Node.js " +
      process.version +
      " (" +
      process.execPath +
      "). " +
      "Get it with nvm (nvm install, which reads .nvmrc), or with npm alone: " +
      "npm install --prefix .tools/node" +
      needed +
      " node@" +
      needed +
      ' && export PATH="$PWD/.tools/node' +
      needed +
      '/node_modules/.bin:$PATH"' +
      " (or for one command: npx -p node@" +
      needed +
      " -- npm run " +
      (process.env.npm_lifecycle_event || "test") +
      ")\n",
  );
  process.exit(1);
}
