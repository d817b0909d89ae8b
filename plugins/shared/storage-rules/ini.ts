/**
 * The subset of Python's configparser (3.x defaults) that carbon's rule files rely on: sections in
 * file order, `key = value` or `key: value` (the first delimiter splits), option names
 * lower-cased, whole-line comments with `#` or `;`, indented continuation lines, values stripped.
 * `%` interpolation is not applied (carbon's patterns never use it; a lone `%` makes configparser
 * fail, and we accept it instead).
 */
export interface IniSection {
  readonly name: string;
  readonly line: number;
  readonly options: Map<string, string>;
}

export class IniSyntaxError extends Error {
  override name = 'IniSyntaxError';
}

const SECTION = /^\[([^\]]+)\]\s*$/;
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/;

export function parseIni(text: string, file = '<inline>'): IniSection[] {
  const sections: IniSection[] = [];
  const seen = new Set<string>();
  let cur: IniSection | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const stripped = raw.trim();
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) {
      if (stripped === '') lastKey = undefined;
      return;
    }
    if (/^\s/.test(raw) && cur && lastKey !== undefined) {
      cur.options.set(lastKey, `${cur.options.get(lastKey)}\n${stripped}`);
      return;
    }
    const s = SECTION.exec(stripped);
    if (s) {
      const name = s[1]!;
      if (seen.has(name)) throw new IniSyntaxError(`${file}:${lineNo}: section [${name}] appears twice`);
      seen.add(name);
      cur = { name, line: lineNo, options: new Map() };
      sections.push(cur);
      lastKey = undefined;
      return;
    }
    if (!cur) throw new IniSyntaxError(`${file}:${lineNo}: option outside a section: ${JSON.stringify(stripped.slice(0, 80))}`);
    const o = OPTION.exec(stripped);
    if (!o || o[1] === '') throw new IniSyntaxError(`${file}:${lineNo}: expected "key = value": ${JSON.stringify(stripped.slice(0, 80))}`);
    const key = o[1]!.toLowerCase();
    if (cur.options.has(key)) throw new IniSyntaxError(`${file}:${lineNo}: option ${key} appears twice in [${cur.name}]`);
    cur.options.set(key, o[3]!);
    lastKey = key;
  });
  return sections;
}
