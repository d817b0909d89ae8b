import { holdSighup, reloadWith } from '../sighup.js';
import type { Command } from '../command.js';
import { argsProblem, parseArgs, stringOption } from '../args.js';
import { DEFAULT_CONFIG } from '../package-root.js';
import { readConfigFile } from '../../core/config/load.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';

/**
 * Ctrl-C under `npm start` reaches carbonado twice within milliseconds, from the terminal and
 * forwarded by npm; only a repeat after this long is someone asking to stop waiting.
 */
const REPEAT_FORCES_AFTER_MS = 1000;

const command: Command = {
  summary: 'run carbonado (the default command)',
  usage: `Usage: carbonado [run] [--config FILE]

Starts every configured plugin instance and runs until SIGTERM or SIGINT, then drains
(inputs stop, aggregators flush, stores write out) and exits 0. A second SIGTERM or SIGINT, a
second or more after the first, exits at once without waiting for the drain. An uncaught
exception drains the same way and exits 1. SIGHUP asks plugins to reload their own files (e.g.
storage schemas). Without --config, CARBONADO_CONFIG or the embedded default config is used.`,
  async run(argv) {
    const args = parseArgs(argv);
    const problem = argsProblem(args, { options: ['config'] });
    if (problem !== undefined) {
      process.stderr.write(`carbonado: ${problem} (see carbonado --help)\n`);
      return 2;
    }
    const file = stringOption(args, 'config') ?? process.env.CARBONADO_CONFIG ?? DEFAULT_CONFIG();
    holdSighup();
    let runtime: Runtime;
    try {
      runtime = await Runtime.create(await readConfigFile(file), { plugins: builtinPlugins, file });
      await runtime.start();
    } catch (err) {
      // one line per problem (the config's validation reports several at once)
      process.stderr.write(`${(err as Error).message.split('\n').map((l) => `carbonado: ${l}`).join('\n')}\n`);
      return 1;
    }
    return new Promise<number>((resolve) => {
      /** when the drain began; undefined while running */
      let stoppingSince: number | undefined;
      const stop = (why: string, code = 0) => {
        if (stoppingSince !== undefined) {
          runtime.services.log.warn(`${why} again: exiting without waiting for the drain`);
          process.exit(1);
        }
        stoppingSince = performance.now();
        runtime.services.log.info(`${why}: draining`);
        runtime.stop().then(
          () => resolve(code),
          (err: Error) => {
            process.stderr.write(`carbonado: stop failed: ${err.message}\n`);
            resolve(1);
          },
        );
      };
      process.on('unhandledRejection', (reason) => runtime.reportUnhandledRejection(reason));
      // A throw nobody caught (a plugin's timer, say) leaves some state unknown, so the process
      // does not carry on; but it drains first, as on SIGTERM: what the stores hold in memory
      // reaches the disk instead of being lost with the process (or replayed from the WAL).
      process.on('uncaughtException', (err) => {
        runtime.services.log.error('uncaught exception (a bug: please report it): draining, then exiting 1', { error: err });
        stop('uncaught exception', 1);
      });
      const signalled = (signal: NodeJS.Signals) => {
        if (stoppingSince !== undefined && performance.now() - stoppingSince < REPEAT_FORCES_AFTER_MS) {
          runtime.services.log.info(`${signal} again within ${REPEAT_FORCES_AFTER_MS / 1000} s (a copy forwarded by a parent process such as npm): still draining`);
          return;
        }
        stop(signal);
      };
      process.on('SIGTERM', () => signalled('SIGTERM'));
      process.on('SIGINT', () => signalled('SIGINT'));
      const missed = reloadWith(() => {
        runtime.services.log.info('SIGHUP: reload');
        runtime.services.bus.emit('reload');
      });
      if (missed > 0) {
        runtime.services.log.info('SIGHUP during start-up: reloading now');
        runtime.services.bus.emit('reload');
      }
    });
  },
};
export default command;
