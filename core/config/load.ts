import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CarbonadoError, ErrorCode } from '../errors.js';

/** Reads a YAML or JSON config file into a plain object (not yet validated). */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CarbonadoError(ErrorCode.CONFIG_READ, `${file}: cannot read config: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): unknown {
  try {
    if (extname(file).toLowerCase() === '.json') return JSON.parse(text);
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true }) ?? {};
  } catch (err) {
    const msg = err instanceof YAMLParseError ? err.message.split('\n')[0] : (err as Error).message;
    throw new CarbonadoError(ErrorCode.CONFIG_PARSE, `${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${msg}`, { cause: err });
  }
}
