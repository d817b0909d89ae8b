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
    const msg = err instanceof YAMLParseError ? yamlProblem(err, text) : (err as Error).message;
    throw new CarbonadoError(ErrorCode.CONFIG_PARSE, `${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${msg}`, { cause: err });
  }
}

/**
 * The YAML library's first line ("… at line 4, column 1:") without the excerpt it goes on to draw
 * over several lines: the line itself is quoted instead, or named as the end of the file (where an
 * unclosed bracket is noticed).
 */
function yamlProblem(err: YAMLParseError, text: string): string {
  const head = err.message.split('\n')[0]!.replace(/:\s*$/, '');
  const line = err.linePos?.[0]?.line;
  if (line === undefined) return head;
  const lines = text.split(/\r?\n/);
  const at = lines[line - 1];
  if (at === undefined || (at.trim() === '' && lines.slice(line).every((l) => l.trim() === ''))) return `${head} (the end of the file)`;
  return `${head}: ${JSON.stringify(at.length > 120 ? `${at.slice(0, 120)}…` : at)}`;
}
