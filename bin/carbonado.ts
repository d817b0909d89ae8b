#!/usr/bin/env node
import { holdSighup } from '../cli/sighup.js';

const argv = process.argv.slice(2);
// the daemon (`run`, the default command): before anything else loads, so that a reload asked
// for during start-up cannot end it
if (argv[0] === undefined || argv[0].startsWith('-') || argv[0] === 'run') holdSighup();
const { main } = await import('../cli/main.js');

main(argv).then(
  (code) => {
    // exit explicitly: a plugin that leaked a timer must not keep a stopped carbonado alive
    process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`carbonado: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
