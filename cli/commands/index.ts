// The CLI's subcommands: one line each. A command module default-exports a Command.
import type { Command } from '../command.js';

export const commands: Record<string, () => Promise<{ default: Command }>> = {
  run: () => import('./run.js'),
  'check-config': () => import('./check-config.js'),
  'import-whisper': () => import('./import-whisper.js'),
  'import-tags': () => import('./import-tags.js'),
  'export-tags': () => import('./export-tags.js'),
  event: () => import('./event.js'),
  route: () => import('./route.js'),
  simulate: () => import('./simulate.js'),
};
