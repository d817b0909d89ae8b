// The built-in plugins: one line each. Adding a plugin touches its folder and one line here.
import type { PluginManifest } from '../core/index.js';
import carbonLine from './inputs/carbon_line/index.js';
import carbonPickle from './inputs/carbon_pickle/index.js';
import statsdUdp from './inputs/statsd_udp/index.js';
import statsdTcp from './inputs/statsd_tcp/index.js';
import statsdAggregator from './aggregators/statsd/index.js';
import sqliteEvents from './stores/sqlite_events/index.js';
import grafanaAnnotations from './outputs/grafana_annotations/index.js';
import carbonRelay from './stores/carbon_relay/index.js';
import logTail from './inputs/log_tail/index.js';
import prometheusScrape from './inputs/prometheus_scrape/index.js';
import graphiteRender from './outputs/graphite_render/index.js';
import whisper from './stores/whisper/index.js';
import sqliteStore from './stores/sqlite/index.js';

export const builtinPlugins: readonly PluginManifest[] = [
  carbonLine,
  carbonPickle,
  statsdUdp,
  statsdTcp,
  statsdAggregator,
  sqliteEvents,
  grafanaAnnotations,
  carbonRelay,
  logTail,
  prometheusScrape,
  graphiteRender,
  whisper,
  sqliteStore,
];
