// The built-in plugins: one line each. Adding a plugin touches its folder and one line here.
import type { PluginManifest } from '../core/index.js';
import carbonLine from './inputs/carbon_line/index.js';

export const builtinPlugins: readonly PluginManifest[] = [
  carbonLine,
];
