#!/usr/bin/env node
import { main } from '../cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    // exit explicitly: a plugin that leaked a timer must not keep a stopped carbonado alive
    process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`carbonado: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
